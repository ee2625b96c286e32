// The JSON edge: the contract's field names, hex-or-number integers, clear
// errors naming the field, and round trips.
#include <gtest/gtest.h>

#include <sstream>

#include "model/reference.h"
#include "replay/case_json.h"
#include "replay/case_reader.h"

namespace {

using nlohmann::json;
using namespace mmucheck;

const char* kContractExample = R"({
  "name": "optional free text",
  "cpu": {"cr0": "0x80010011", "cr3": "0x1000", "cr4": "0x003006a0", "efer": "0xd00", "rflags": "0x2",
          "cpl": 0, "pkru": "0x0", "pkrs": "0x0", "maxphyaddr": 46, "vendor": "intel",
          "features": ["nx", "pse", "pse36", "pdpe1gb", "smep", "smap", "pku", "pks", "la57"]},
  "access": {"addr": "0x7fffdead1000", "kind": "read", "implicit": false, "shadow_stack": false},
  "memory": {"0x1000": "0x2027", "0x2000": "0x3027"}
})";

std::string error_field(const std::string& text) {
  try {
    case_from_json(json::parse(text));
  } catch (const CaseError& e) {
    return e.field();
  }
  return "<no error>";
}

TEST(CaseJson, ReadsTheContractExample) {
  CaseFile f = case_from_json(json::parse(kContractExample));
  EXPECT_EQ(f.kase.cpu.cr4, 0x003006a0u);
  EXPECT_EQ(f.kase.cpu.maxphyaddr, 46u);
  EXPECT_TRUE(f.kase.cpu.features.has(mmu::Feature::la57));
  EXPECT_EQ(f.kase.access.addr, 0x7fffdead1000u);
  EXPECT_EQ(f.kase.memory.read(0x2000), 0x3027u);
  EXPECT_FALSE(f.expect);
}

TEST(CaseJson, IntegersAsHexStringsOrNumbers) {
  json j = json::parse(kContractExample);
  j["cpu"]["cr3"] = 4096;
  j["memory"] = {{"4096", 8231}};
  CaseFile f = case_from_json(j);
  EXPECT_EQ(f.kase.cpu.cr3, 0x1000u);
  EXPECT_EQ(f.kase.memory.read(0x1000), 0x2027u);
}

TEST(CaseJson, ErrorsNameTheField) {
  json j = json::parse(kContractExample);
  j["cpu"]["cr0"] = "0xzz";
  EXPECT_EQ(error_field(j.dump()), "cpu.cr0");
  j = json::parse(kContractExample);
  j["cpu"].erase("cr3");
  EXPECT_EQ(error_field(j.dump()), "cpu.cr3");
  j = json::parse(kContractExample);
  j["access"]["kind"] = "execute";
  EXPECT_EQ(error_field(j.dump()), "access.kind");
  j = json::parse(kContractExample);
  j["cpu"]["features"].push_back("sgx2");
  EXPECT_EQ(error_field(j.dump()), "cpu.features");
  j = json::parse(kContractExample);
  j["cpu"]["cr4"] = "0x00300680";  // LA57 off is fine; now set PKE without pku:
  j["cpu"]["features"] = {"nx"};
  j["cpu"]["cr4"] = "0x400020";
  EXPECT_EQ(error_field(j.dump()), "cpu.cr4");
  j = json::parse(kContractExample);
  j["cpu"]["typo"] = 1;
  EXPECT_EQ(error_field(j.dump()), "cpu.typo");
  j = json::parse(kContractExample);
  j["memory"]["0x1000x"] = "0x1";
  EXPECT_EQ(error_field(j.dump()), "memory.0x1000x");
  j = json::parse(kContractExample);
  j["cpu"]["cpl"] = -1;
  EXPECT_EQ(error_field(j.dump()), "cpu.cpl");
  j = json::parse(kContractExample);
  j["cpu"]["cr3"] = "0x10000000000000000";  // 2^64 does not fit
  EXPECT_EQ(error_field(j.dump()), "cpu.cr3");
}

TEST(CaseJson, DuplicateMemoryAddressIsAnError) {
  json j = json::parse(kContractExample);
  j["memory"]["4096"] = "0x1";  // same address as "0x1000"
  EXPECT_EQ(error_field(j.dump()), "memory.4096");
}

TEST(CaseJson, RoundTrip) {
  CaseFile f = case_from_json(json::parse(kContractExample));
  CaseFile g = case_from_json(case_to_json(f.kase));
  EXPECT_EQ(case_to_json(f.kase), case_to_json(g.kase));
  EXPECT_EQ(g.kase.memory, f.kase.memory);
}

TEST(CaseJson, VerdictRoundTrip) {
  mmu::Verdict v;
  v.outcome.kind = mmu::OutcomeKind::page_fault;
  v.outcome.error_code = 0x7;
  v.outcome.cr2 = 0xdead000;
  v.optional_writes.push({mmu::Space::guest, 0x1000, 0x2027});
  json j = verdict_to_json(v);
  EXPECT_EQ(j["outcome"], "page_fault");
  EXPECT_EQ(j["error_code"], "0x7");
  EXPECT_FALSE(j.contains("writes"));
  mmu::Verdict back = verdict_from_json(j);
  EXPECT_EQ(back.outcome, v.outcome);
  EXPECT_EQ(back.optional_writes, v.optional_writes);
}

TEST(CaseJson, OutcomeFieldsFollowTheContract) {
  mmu::Outcome ok;
  ok.kind = mmu::OutcomeKind::ok;
  ok.pa = 0x3000;
  ok.page_size = 4096;
  ok.writes.push({mmu::Space::guest, 0x2000, 0x3067});
  EXPECT_EQ(outcome_to_json(ok).dump(),
            R"({"outcome":"ok","pa":"0x3000","page_size":4096,"writes":[{"addr":"0x2000","space":"guest","value":"0x3067"}]})");
  mmu::Outcome gp;
  gp.kind = mmu::OutcomeKind::general_protection;
  gp.gp_reason = mmu::GpReason::non_canonical;
  EXPECT_EQ(outcome_to_json(gp).dump(), R"({"outcome":"general_protection","reason":"non-canonical"})");
}

TEST(CaseReader, JsonLinesKeepGoingAfterABadLine) {
  json one = json::parse(kContractExample);
  std::stringstream in(one.dump() + "\n\n{not json}\n" + one.dump() + "\n");
  CaseReader reader(in, "t.jsonl");
  std::vector<CaseRecord> recs;
  for (CaseRecord r; reader.next(r);) recs.push_back(r);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_TRUE(recs[0].file);
  EXPECT_FALSE(recs[1].file);
  EXPECT_EQ(recs[1].line, 3u);
  EXPECT_NE(recs[1].error.find("t.jsonl:3: malformed JSON"), std::string::npos) << recs[1].error;
  EXPECT_TRUE(recs[2].file);
  EXPECT_EQ(recs[2].line, 4u);
}

TEST(CaseReader, MalformedFirstLineStillReadsTheRest) {
  json one = json::parse(kContractExample);
  std::stringstream in("{\"cpu\": \n" + one.dump() + "\n");
  CaseReader reader(in, "t.jsonl");
  std::vector<CaseRecord> recs;
  for (CaseRecord r; reader.next(r);) recs.push_back(r);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].file);
  EXPECT_TRUE(recs[1].file);
}

TEST(CaseReader, PrettyDocumentErrorsPointAtTheFieldLine) {
  std::string text = kContractExample;
  text.replace(text.find("\"kind\": \"read\""), 14, "\"kind\": \"rd\"");
  std::stringstream in(text);
  CaseReader reader(in, "case.json");
  CaseRecord r;
  ASSERT_TRUE(reader.next(r));
  EXPECT_FALSE(r.file);
  EXPECT_EQ(r.line, 6u);
  EXPECT_NE(r.error.find("case.json:6: access.kind"), std::string::npos) << r.error;
  EXPECT_FALSE(reader.next(r));
}

TEST(CaseReader, TruncatedDocument) {
  std::string text = kContractExample;
  text.resize(text.size() / 2);
  std::stringstream in(text);
  CaseReader reader(in, "cut.json");
  CaseRecord r;
  ASSERT_TRUE(reader.next(r));
  EXPECT_FALSE(r.file);
  EXPECT_NE(r.error.find("cut.json:"), std::string::npos);
  EXPECT_NE(r.error.find("malformed JSON"), std::string::npos);
}

TEST(CaseReader, ArrayDocumentHoldsSeveralCases) {
  json one = json::parse(kContractExample);
  std::stringstream in("[\n" + one.dump() + ",\n" + one.dump() + "\n]\n");
  CaseReader reader(in, "many.json");
  int n = 0;
  for (CaseRecord r; reader.next(r);) n += r.file ? 1 : 0;
  EXPECT_EQ(n, 2);
}

}  // namespace
