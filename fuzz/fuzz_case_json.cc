// fuzz_case_json: the case reader (replay/case_json.h, replay/case_reader.h)
// on arbitrary text. Properties, each an abort when broken:
// - bad input is answered with CaseError (a message naming the field), never
//   with another exception, a crash or a sanitizer report;
// - an accepted case is valid (mmu::validate), survives JSON -> case -> JSON ->
//   case unchanged, and so does its "expect" verdict;
// - the fuzz input format carries it exactly: decode(encode(case)) is the case
//   (when it fits the format: at most DecodeOptions::kMaxHistory earlier states);
// - CaseReader (JSON lines or one document) reads the same text without throwing.
// Its inputs are JSON text, so the seeds are corpus/**/*.json as they are.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "fuzz/decoder.h"
#include "model/validate.h"
#include "replay/case_json.h"
#include "replay/case_reader.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_case_json: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

// Tells fuzz/replay_main.cc to feed *.json files as they are, not encoded.
extern "C" int mmucheck_fuzz_raw_json() { return 1; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  std::istringstream in(text);
  mmucheck::CaseReader reader(in, "fuzz");
  for (mmucheck::CaseRecord rec; reader.next(rec);) {
  }

  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  mmucheck::CaseFile f;
  try {
    f = mmucheck::case_from_json(j);
  } catch (const mmucheck::CaseError&) {
    return 0;  // bad input, reported with its field
  }
  if (auto bad = mmu::validate(f.kase)) fail("the reader accepted an invalid case", bad->field + ": " + bad->message);

  const nlohmann::json once = mmucheck::case_to_json(f.kase);
  mmucheck::CaseFile again;
  try {
    again = mmucheck::case_from_json(once);
  } catch (const mmucheck::CaseError& e) {
    fail("the reader rejects what the writer wrote", e.field() + ": " + e.what() + "\n" + once.dump());
  }
  if (mmucheck::case_to_json(again.kase) != once) fail("JSON -> case -> JSON is not stable", once.dump());

  if (f.expect) {
    const nlohmann::json v = mmucheck::verdict_to_json(*f.expect);
    nlohmann::json v2;
    try {
      mmu::Verdict back = mmucheck::verdict_from_json(v);
      // Whether gpa/ept_page_size belong to an outcome comes from the case, as in case_from_json.
      back.outcome.has_ept = f.kase.ept.has_value();
      for (mmu::Verdict& alt : back.alternatives) alt.outcome.has_ept = f.kase.ept.has_value();
      v2 = mmucheck::verdict_to_json(back);
    } catch (const mmucheck::CaseError& e) {
      fail("the reader rejects the verdict the writer wrote", e.field() + ": " + e.what() + "\n" + v.dump());
    }
    if (v2 != v) fail("verdict JSON -> verdict -> JSON is not stable", v.dump() + "\n" + v2.dump());
  }

  if (!mmucheck::fuzz::fits(f.kase, {})) return 0;  // e.g. more history than the format keeps
  mmu::Case decoded = mmucheck::fuzz::decode(mmucheck::fuzz::encode(f.kase));
  decoded.name = f.kase.name;
  if (mmucheck::case_to_json(decoded) != once)
    fail("decode(encode(case)) is not the case", once.dump() + "\n" + mmucheck::case_to_json(decoded).dump());
  return 0;
}
