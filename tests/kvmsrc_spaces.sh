#!/usr/bin/env bash
# Every exhaust space, ref vs kvm-src and ref vs kvm-src-tdp (KVM's own
# functions from the build's Linux tree, docs/kvm-src.md): no divergence
# outside the allow-list (exit 0 from each). kvm-src must be in the build whenever Debian's linux-source-6.1
# is installed; without a tree the script says so and exits 77 (skipped).
# Usage: kvmsrc_spaces.sh MMUCHECK
set -u
bin=$1
if ! "$bin" engines | grep -q '^kvm-src .*from Linux'; then
  why=$("$bin" engines | grep '^kvm-src' || echo "kvm-src: not listed")
  if [[ -e /usr/src/linux-source-6.1.tar.xz ]]; then echo "FAIL: linux-source-6.1 is installed but $why"; exit 1; fi
  echo "SKIPPED: $why"; exit 77
fi
spaces=$("$bin" exhaust --space '?' 2>&1 | sed -n 's/.*(known: \(.*\))$/\1/p' | tr -d ',')
[[ -n "$spaces" ]] || { echo "FAIL: could not list the spaces"; exit 1; }
fail=0
for e in kvm-src kvm-src-tdp; do
  for s in $spaces; do
    out=$("$bin" exhaust --space "$s" --engines ref,$e --jobs "$(nproc)" 2>/dev/null)
    rc=$?
    echo "$out" | head -3
    if [[ $rc -ne 0 ]]; then echo "FAIL ref,$e on $s: exit $rc"; fail=1; fi
  done
done
[[ $fail -eq 0 ]] && echo "kvmsrc_spaces: every space agrees for kvm-src and kvm-src-tdp but for allow-listed findings"
exit $fail
