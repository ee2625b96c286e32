#include "tools/decode_cmd.h"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "fuzz/targets.h"
#include "replay/case_json.h"

namespace mmucheck {
namespace {

std::string target_list() {
  std::string s;
  for (const auto& t : fuzz::targets()) s += (s.empty() ? "" : ", ") + std::string(t.name);
  return s + ", or a shape: any, guest, ept, nested";
}

// Hex text ("0a1bff..."; whitespace ignored) to bytes; false on anything else.
bool from_hex(const std::string& text, std::vector<std::uint8_t>& out) {
  int high = -1;
  for (char ch : text) {
    if (std::isspace(static_cast<unsigned char>(ch))) continue;
    const int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
                  : (ch >= 'a' && ch <= 'f')                   ? ch - 'a' + 10
                  : (ch >= 'A' && ch <= 'F')                   ? ch - 'A' + 10
                                                               : -1;
    if (d < 0) return false;
    if (high < 0) {
      high = d;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + d));
      high = -1;
    }
  }
  return high < 0;
}

}  // namespace

CLI::App* add_decode_command(CLI::App& app, DecodeCli& opt) {
  auto* cmd = app.add_subcommand("decode", "Turn a fuzz input (corpus entry, crash file) into a case JSON");
  cmd->add_option("input", opt.input, "Fuzz input file, or - for standard input")->required();
  cmd->add_option("--target", opt.target, "The fuzz target the input is for (it decides the shape): " + target_list())
      ->capture_default_str();
  cmd->add_flag("--hex", opt.hex, "The input is hex text (the \"input\" of a divergence file)");
  cmd->add_flag("--lines", opt.lines, "Print the case on one line instead of pretty-printed");
  return cmd;
}

int run_decode(const DecodeCli& opt) {
  fuzz::DecodeOptions decode;
  if (const auto* t = fuzz::find_target(opt.target)) decode = t->decode;
  else if (auto shape = fuzz::shape_from_name(opt.target)) decode.shape = *shape;
  else {
    std::cerr << fmt::format("mmucheck decode: unknown target '{}' (known: {})\n", opt.target, target_list());
    return 2;
  }
  std::string text;
  if (opt.input == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(opt.input, ec)) {
      std::cerr << fmt::format("{}: is a directory, not a fuzz input\n", opt.input);
      return 2;
    }
    std::ifstream f(opt.input, std::ios::binary);
    if (!f) {
      std::cerr << fmt::format("{}: cannot open\n", opt.input);
      return 2;
    }
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  std::vector<std::uint8_t> bytes;
  if (opt.hex) {
    if (!from_hex(text, bytes)) {
      std::cerr << fmt::format("{}: not hex text (an even number of hex digits expected)\n", opt.input);
      return 2;
    }
  } else {
    bytes.assign(text.begin(), text.end());
  }
  mmu::Case c = fuzz::decode(bytes, decode);
  c.name = fmt::format("decoded from {} ({} bytes) as a {} input", opt.input == "-" ? "<stdin>" : opt.input,
                       bytes.size(), opt.target);
  std::cout << (opt.lines ? case_to_json(c).dump() : case_to_json(c).dump(2)) << "\n";
  return 0;
}

}  // namespace mmucheck
