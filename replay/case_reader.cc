#include "replay/case_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace mmucheck {

using nlohmann::json;

CaseReader::CaseReader(std::istream& in, std::string source) : in_(in), source_(std::move(source)) {}

CaseRecord CaseReader::from_json(const json& j, const std::string& text, unsigned first_line, bool single_document) {
  CaseRecord rec;
  rec.line = first_line;
  try {
    rec.file = case_from_json(j);
  } catch (const CaseError& e) {
    if (single_document) {
      if (unsigned at = locate_field(text, e.field())) rec.line = first_line + at - 1;
    }
    rec.error = fmt::format("{}:{}: {}{}", source_, rec.line, e.field().empty() ? "" : e.field() + ": ", e.what());
  }
  return rec;
}

CaseRecord CaseReader::from_text(const std::string& text, unsigned first_line, bool single_document) {
  try {
    return from_json(json::parse(text), text, first_line, single_document);
  } catch (const json::parse_error& e) {
    CaseRecord rec;
    const std::size_t upto = std::min<std::size_t>(e.byte ? e.byte - 1 : 0, text.size());
    rec.line = first_line + static_cast<unsigned>(std::count(text.begin(), text.begin() + static_cast<long>(upto), '\n'));
    std::string what = e.what();
    if (auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    // nlohmann counts lines from the record's start; the prefix already names the absolute line.
    if (auto at = what.find("at line "); at != std::string::npos) {
      if (auto comma = what.find(", column", at); comma != std::string::npos) what.erase(at + 3, comma + 2 - (at + 3));
    }
    rec.error = fmt::format("{}:{}: malformed JSON: {}", source_, rec.line, what);
    return rec;
  } catch (const json::out_of_range& e) {
    // A number the parser cannot hold (e.g. 1e999): malformed too, and reading goes on.
    CaseRecord rec;
    rec.line = first_line;
    rec.error = fmt::format("{}:{}: malformed JSON: {}", source_, rec.line, e.what());
    return rec;
  }
}

bool CaseReader::next(CaseRecord& out) {
  if (!started_) {
    started_ = true;
    // Decide the format from the first non-blank line: a complete JSON value
    // there means JSON lines; anything else is one pretty document.
    std::string line;
    while (std::getline(in_, line)) {
      ++line_;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (json::accept(line)) {
        first_line_ = line;
      } else {
        document_mode_ = true;
        const unsigned start = line_;
        std::string text = line + "\n" + std::string(std::istreambuf_iterator<char>(in_), {});
        json doc;
        try {
          doc = json::parse(text);
        } catch (const json::exception&) {  // parse_error, or out_of_range for a number too large
          // A malformed first line of JSON lines looks like a broken document:
          // if any later line is a complete value, read line by line instead.
          std::vector<std::pair<unsigned, std::string>> lines;
          std::size_t pos = 0;
          for (unsigned n = start; pos <= text.size(); ++n) {
            const std::size_t eol = std::min(text.find('\n', pos), text.size());
            std::string l = text.substr(pos, eol - pos);
            if (l.find_first_not_of(" \t\r") != std::string::npos) lines.emplace_back(n, std::move(l));
            pos = eol + 1;
          }
          const bool json_lines = std::any_of(lines.begin() + 1, lines.end(), [](const auto& l) { return json::accept(l.second); });
          if (json_lines) {
            for (const auto& [n, l] : lines) pending_.push_back(from_text(l, n, false));
          } else {
            pending_.push_back(from_text(text, start, true));
          }
          break;
        }
        if (doc.is_array()) {
          for (const json& item : doc) pending_.push_back(from_json(item, text, start, false));
        } else {
          pending_.push_back(from_json(doc, text, start, true));
        }
      }
      break;
    }
  }
  if (document_mode_) {
    if (pending_next_ >= pending_.size()) return false;
    out = std::move(pending_[pending_next_++]);
    return true;
  }
  if (first_line_) {
    out = from_text(*first_line_, line_, false);
    first_line_.reset();
    return true;
  }
  std::string line;
  while (std::getline(in_, line)) {
    ++line_;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    out = from_text(line, line_, false);
    return true;
  }
  return false;
}

}  // namespace mmucheck
