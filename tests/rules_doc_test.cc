// docs/rules.md lists every rule id with its SDM section, and nothing else.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "model/rules.h"

namespace {

TEST(RulesDoc, CatalogueIsConsistent) {
  std::set<std::string_view> ids;
  unsigned i = 0;
  for (const mmu::RuleInfo& r : mmu::all_rules()) {
    EXPECT_EQ(static_cast<unsigned>(r.rule), i++) << r.id << " is out of order in the table";
    EXPECT_TRUE(ids.insert(r.id).second) << "duplicate id " << r.id;
    EXPECT_FALSE(r.sdm.empty()) << r.id;
  }
  EXPECT_LT(i, 64u) << "Trace keeps rule hits in a 64-bit set";
}

TEST(RulesDoc, EveryRuleIsDocumentedWithItsSection) {
  std::ifstream in(MMUCHECK_SOURCE_DIR "/docs/rules.md");
  ASSERT_TRUE(in) << "docs/rules.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const mmu::RuleInfo& r : mmu::all_rules()) {
    if (r.rule == mmu::Rule::none) continue;
    const std::string row = "| `" + std::string(r.id) + "` | " + std::string(r.sdm) + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/rules.md lacks the row for " << r.id << " (" << r.sdm << ")";
  }
}

}  // namespace
