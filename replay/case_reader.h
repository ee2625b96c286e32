// Reads cases from a stream: either JSON lines (one case per line) or one
// pretty-printed JSON document (an object, or an array of objects). Bad records
// come back as errors naming the source, line and field; reading goes on.
//
//   mmucheck::CaseReader reader(std::cin, "-");
//   for (mmucheck::CaseRecord rec; reader.next(rec);)
//     if (rec.file) use(*rec.file); else std::cerr << rec.error << "\n";
#pragma once
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "replay/case_json.h"

namespace mmucheck {

struct CaseRecord {
  unsigned line = 0;              // 1-based line where the record starts (or the bad field is)
  std::optional<CaseFile> file;   // set when the record is a valid case
  std::string error;              // "SOURCE:LINE: FIELD: message" otherwise
};

class CaseReader {
 public:
  CaseReader(std::istream& in, std::string source);
  bool next(CaseRecord& out);

 private:
  CaseRecord from_text(const std::string& text, unsigned first_line, bool single_document);
  CaseRecord from_json(const nlohmann::json& j, const std::string& text, unsigned first_line, bool single_document);

  std::istream& in_;
  std::string source_;
  unsigned line_ = 0;
  bool started_ = false;
  bool document_mode_ = false;
  std::vector<CaseRecord> pending_;  // document mode: every record, read up front
  std::size_t pending_next_ = 0;
  std::optional<std::string> first_line_;
};

}  // namespace mmucheck
