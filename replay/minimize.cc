#include "replay/minimize.h"

#include <fmt/format.h>

#include <functional>

#include "model/rules.h"
#include "model/validate.h"
#include "replay/known.h"

namespace mmucheck {
namespace {

using mmu::u64;

// `m` without the entry at `addr`.
void erase(mmu::PhysMemory& m, u64 addr) {
  mmu::PhysMemory rest;
  for (const auto& e : m.entries())
    if (e.addr != addr) rest.set(e.addr, e.value);
  m = std::move(rest);
}

std::string side(const mmu::Outcome& o) {
  return std::string(mmu::outcome_kind_name(o.kind));
}

}  // namespace

std::optional<std::string> divergence_signature(const mmu::Case& c, const Engine& a, const Engine& b,
                                                std::string* known) {
  if (a.unsupported(c) || b.unsupported(c)) return std::nullopt;
  mmu::Trace ta, tb;
  const mmu::Verdict va = a.evaluate(c, &ta), vb = b.evaluate(c, &tb);
  if (mmu::accepts(va, vb.outcome)) return std::nullopt;
  if (const KnownDivergence* k = known_divergence(a.name(), b.name(), c, va, vb)) {
    if (known) *known = std::string(k->id);
    return std::nullopt;
  }
  const mmu::Outcome &oa = va.outcome, &ob = vb.outcome;
  std::string sig = fmt::format("{} vs {}: {} / {}", a.name(), b.name(), side(oa), side(ob));
  const mmu::Trace* ref = a.name() == "ref" ? &ta : b.name() == "ref" ? &tb : nullptr;
  if (ref && ref->decided_by != mmu::Rule::none) sig += fmt::format(" [ref: {}]", mmu::rule_info(ref->decided_by).id);
  if (oa.kind == ob.kind) {
    switch (oa.kind) {
      case mmu::OutcomeKind::page_fault:
        if (oa.error_code != ob.error_code) sig += fmt::format(" error-code bits {:#x}", oa.error_code ^ ob.error_code);
        break;
      case mmu::OutcomeKind::ept_violation:
        if ((oa.qualification ^ ob.qualification) & ~va.qualification_dont_care)
          sig += fmt::format(" qualification bits {:#x}", (oa.qualification ^ ob.qualification) & ~va.qualification_dont_care);
        break;
      case mmu::OutcomeKind::ok:
        if (oa.pa != ob.pa || oa.page_size != ob.page_size) sig += " address/size";
        else sig += " writes";
        break;
      default:
        break;
    }
  }
  return sig;
}

MinimizeResult minimize(const mmu::Case& c, const Engine& a, const Engine& b, unsigned budget) {
  MinimizeResult r;
  r.kase = c;
  r.signature = divergence_signature(c, a, b).value_or("");
  // Applies `change` to a copy; keeps it when the copy is legal and diverges
  // the same way.
  auto attempt = [&](const std::function<void(mmu::Case&)>& change) {
    if (r.tried >= budget) return false;
    mmu::Case candidate = r.kase;
    change(candidate);
    ++r.tried;
    if (mmu::validate(candidate)) return false;
    const auto sig = divergence_signature(candidate, a, b);
    if (!sig || *sig != r.signature) return false;
    r.kase = std::move(candidate);
    ++r.kept;
    return true;
  };
  // Clears the set bits of `value` (found through `get`), highest first.
  auto clear_bits = [&](const std::function<u64&(mmu::Case&)>& get) {
    bool any = false;
    for (int bit = 63; bit >= 0; --bit) {
      if (!(get(r.kase) & mmu::bit(static_cast<unsigned>(bit)))) continue;
      any |= attempt([&](mmu::Case& k) { get(k) &= ~mmu::bit(static_cast<unsigned>(bit)); });
    }
    return any;
  };

  for (bool progress = true; progress && r.tried < budget;) {
    progress = false;
    while (!r.kase.history.empty() && attempt([](mmu::Case& k) { k.history.erase(k.history.begin()); })) progress = true;
    // Whole entries first: the biggest steps.
    for (const auto& e : std::vector(r.kase.memory.entries().begin(), r.kase.memory.entries().end()))
      progress |= attempt([&](mmu::Case& k) { erase(k.memory, e.addr); });
    if (r.kase.ept)
      for (const auto& e : std::vector(r.kase.ept->memory.entries().begin(), r.kase.ept->memory.entries().end()))
        progress |= attempt([&](mmu::Case& k) { erase(k.ept->memory, e.addr); });
    // Then bits of what is left.
    for (const auto& e : std::vector(r.kase.memory.entries().begin(), r.kase.memory.entries().end()))
      for (int bit = 63; bit >= 0; --bit)
        if (r.kase.memory.read(e.addr) & mmu::bit(static_cast<unsigned>(bit)))
          progress |= attempt([&](mmu::Case& k) { k.memory.set(e.addr, k.memory.read(e.addr) & ~mmu::bit(static_cast<unsigned>(bit))); });
    if (r.kase.ept)
      for (const auto& e : std::vector(r.kase.ept->memory.entries().begin(), r.kase.ept->memory.entries().end()))
        for (int bit = 63; bit >= 0; --bit)
          if (r.kase.ept->memory.read(e.addr) & mmu::bit(static_cast<unsigned>(bit)))
            progress |= attempt([&](mmu::Case& k) {
              k.ept->memory.set(e.addr, k.ept->memory.read(e.addr) & ~mmu::bit(static_cast<unsigned>(bit)));
            });
    progress |= clear_bits([](mmu::Case& k) -> u64& { return k.cpu.cr4; });
    progress |= clear_bits([](mmu::Case& k) -> u64& { return k.cpu.efer; });
    progress |= clear_bits([](mmu::Case& k) -> u64& { return k.cpu.cr0; });
    progress |= clear_bits([](mmu::Case& k) -> u64& { return k.cpu.rflags; });
    progress |= clear_bits([](mmu::Case& k) -> u64& { return k.cpu.cr3; });
    progress |= clear_bits([](mmu::Case& k) -> u64& { return k.access.addr; });
    if (r.kase.cpu.pkru) progress |= attempt([](mmu::Case& k) { k.cpu.pkru = 0; });
    if (r.kase.cpu.pkrs) progress |= attempt([](mmu::Case& k) { k.cpu.pkrs = 0; });
    if (r.kase.cpu.cpl) progress |= attempt([](mmu::Case& k) { k.cpu.cpl = 0; });
    if (r.kase.access.implicit) progress |= attempt([](mmu::Case& k) { k.access.implicit = false; });
    for (unsigned f = 0; f < mmu::kFeatureCount; ++f)
      if (r.kase.cpu.features.has(static_cast<mmu::Feature>(f)))
        progress |= attempt([&](mmu::Case& k) {
          k.cpu.features.remove(static_cast<mmu::Feature>(f));
          for (mmu::CpuState& h : k.history) h.features.remove(static_cast<mmu::Feature>(f));
        });
    for (std::size_t i = 0; i < r.kase.history.size(); ++i) {
      progress |= clear_bits([i](mmu::Case& k) -> u64& { return k.history[i].cr4; });
      progress |= clear_bits([i](mmu::Case& k) -> u64& { return k.history[i].cr0; });
      progress |= clear_bits([i](mmu::Case& k) -> u64& { return k.history[i].efer; });
    }
  }
  return r;
}

}  // namespace mmucheck
