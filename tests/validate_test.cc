// Impossible machine states are input errors (SDM 2.5, 9.8.5, 4.1.1).
#include <gtest/gtest.h>

#include "model/validate.h"

namespace {

using namespace mmu;

Case long_mode_case() {
  Case c;
  c.cpu.cr0 = cr0::PE | cr0::PG | cr0::WP;
  c.cpu.cr4 = cr4::PAE;
  c.cpu.efer = efer::LME | efer::LMA;
  c.cpu.cr3 = 0x1000;
  c.cpu.features.add(Feature::nx);
  return c;
}

std::string field_of(const Case& c) {
  auto e = validate(c);
  return e ? e->field : "";
}

TEST(Validate, AcceptsPlainLongMode) { EXPECT_FALSE(validate(long_mode_case())); }

TEST(Validate, Cr4BitNeedsItsFeature) {
  struct { u64 bit; Feature f; } gates[] = {{cr4::PSE, Feature::pse}, {cr4::LA57, Feature::la57},
                                            {cr4::SMEP, Feature::smep}, {cr4::SMAP, Feature::smap},
                                            {cr4::PKE, Feature::pku}, {cr4::PKS, Feature::pks}};
  for (auto g : gates) {
    Case c = long_mode_case();
    c.cpu.cr4 |= g.bit;
    EXPECT_EQ(field_of(c), "cpu.cr4") << feature_name(g.f);
    c.cpu.features.add(g.f);
    EXPECT_FALSE(validate(c)) << feature_name(g.f);
  }
}

TEST(Validate, NxeNeedsNx) {
  Case c = long_mode_case();
  c.cpu.efer |= efer::NXE;
  EXPECT_FALSE(validate(c));
  c.cpu.features.remove(Feature::nx);
  EXPECT_EQ(field_of(c), "cpu.efer");
}

TEST(Validate, LmaMustEqualLmeAndPg) {
  Case c = long_mode_case();
  c.cpu.efer &= ~efer::LMA;
  EXPECT_EQ(field_of(c), "cpu.efer");
  c = long_mode_case();
  c.cpu.cr0 &= ~cr0::PG;  // LMA without paging
  EXPECT_EQ(field_of(c), "cpu.efer");
}

TEST(Validate, LongModeNeedsPae) {
  Case c = long_mode_case();
  c.cpu.cr4 &= ~cr4::PAE;
  EXPECT_EQ(field_of(c), "cpu.cr4");
}

TEST(Validate, PagingNeedsProtectedMode) {
  Case c;
  c.cpu.cr0 = cr0::PG;
  EXPECT_EQ(field_of(c), "cpu.cr0");
}

TEST(Validate, CetNeedsWpAndAFeature) {
  Case c = long_mode_case();
  c.cpu.cr4 |= cr4::CET;
  EXPECT_EQ(field_of(c), "cpu.cr4");
  c.cpu.features.add(Feature::shstk);
  EXPECT_FALSE(validate(c));
  c.cpu.cr0 &= ~cr0::WP;
  EXPECT_EQ(field_of(c), "cpu.cr4");
}

TEST(Validate, ShadowStackAccessNeedsCet) {
  Case c = long_mode_case();
  c.access.shadow_stack = true;
  EXPECT_EQ(field_of(c), "access.shadow_stack");
  c.cpu.features.add(Feature::shstk);
  c.cpu.cr4 |= cr4::CET;
  EXPECT_FALSE(validate(c));
  c.access.kind = AccessKind::fetch;
  EXPECT_EQ(field_of(c), "access.shadow_stack");
}

TEST(Validate, ShadowStacksNeedPagingAndNoV86) {
  Case c = long_mode_case();
  c.cpu.features.add(Feature::shstk);
  c.cpu.cr4 |= cr4::CET;
  c.access.shadow_stack = true;
  EXPECT_FALSE(validate(c));
  Case off;
  off.cpu.cr0 = cr0::PE | cr0::WP;
  off.cpu.cr4 = cr4::CET;
  off.cpu.features.add(Feature::shstk);
  off.access.shadow_stack = true;
  EXPECT_EQ(field_of(off), "access.shadow_stack") << "paging off";
  off.cpu.cr0 |= cr0::PG;
  EXPECT_FALSE(validate(off));
  off.cpu.rflags |= rflags::VM;
  off.cpu.cpl = 3;
  EXPECT_EQ(field_of(off), "access.shadow_stack") << "virtual-8086 mode";
}

TEST(Validate, EptIsIntelOnly) {
  Case c = long_mode_case();
  c.ept = EptState{};
  c.ept->eptp = 0x5000 | eptp::WB | eptp::WALK4;
  EXPECT_FALSE(validate(c));
  c.cpu.vendor = Vendor::amd;
  EXPECT_EQ(field_of(c), "ept");
}

TEST(Validate, ImplicitFetchIsImpossible) {
  Case c = long_mode_case();
  c.access.kind = AccessKind::fetch;
  c.access.implicit = true;
  EXPECT_EQ(field_of(c), "access.implicit");
}

TEST(Validate, ReservedRegisterBits) {
  Case c = long_mode_case();
  c.cpu.cr4 |= bit(15);
  EXPECT_EQ(field_of(c), "cpu.cr4");
  c = long_mode_case();
  c.cpu.efer |= bit(1);
  EXPECT_EQ(field_of(c), "cpu.efer");
  c = long_mode_case();
  c.cpu.rflags |= bit(3);
  EXPECT_EQ(field_of(c), "cpu.rflags");
  c = long_mode_case();
  c.cpu.rflags = 0;  // bit 1 is fixed to 1
  EXPECT_EQ(field_of(c), "cpu.rflags");
  c = long_mode_case();
  c.cpu.cr0 |= bit(40);
  EXPECT_EQ(field_of(c), "cpu.cr0");
}

TEST(Validate, Cr3AboveMaxPhyAddr) {
  Case c = long_mode_case();
  c.cpu.maxphyaddr = 36;
  c.cpu.cr3 = bit(36);
  EXPECT_EQ(field_of(c), "cpu.cr3");
  c.cpu.maxphyaddr = 37;
  EXPECT_FALSE(validate(c));
}

TEST(Validate, LegacyModesAreThirtyTwoBit) {
  Case c;
  c.cpu.cr0 = cr0::PE | cr0::PG;
  c.access.addr = bit(32);
  EXPECT_EQ(field_of(c), "access.addr");
  c.access.addr = 0;
  c.cpu.cr3 = bit(33);  // VM entry may leave CR3 bits up to MAXPHYADDR-1 set; paging ignores them
  EXPECT_FALSE(validate(c));
  c.cpu.cr3 = bit(c.cpu.maxphyaddr);
  EXPECT_EQ(field_of(c), "cpu.cr3");
}

TEST(Validate, CplInRealModeIsZero) {
  Case c;
  c.cpu.cr0 = 0;
  c.cpu.cpl = 3;
  EXPECT_EQ(field_of(c), "cpu.cpl");
}

TEST(Validate, MemoryEntriesMatchTheEntryWidth) {
  Case c;
  c.cpu.cr0 = cr0::PE | cr0::PG;  // 32-bit paging: 4-byte entries
  c.memory.set(0x1004, 0x1);
  EXPECT_FALSE(validate(c));
  c.memory.set(0x1008, bit(32));
  EXPECT_EQ(field_of(c), "memory.0x1008");
  Case l = long_mode_case();
  l.memory.set(0x1004, 0x1);  // not 8-byte aligned
  EXPECT_EQ(field_of(l), "memory.0x1004");
}

TEST(Validate, MaxPhyAddrRange) {
  Case c = long_mode_case();
  c.cpu.maxphyaddr = 53;
  EXPECT_EQ(field_of(c), "cpu.maxphyaddr");
  c.cpu.maxphyaddr = 31;
  EXPECT_EQ(field_of(c), "cpu.maxphyaddr");
}

}  // namespace
