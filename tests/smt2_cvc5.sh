#!/usr/bin/env bash
# cvc5 on every query `mmucheck prove --emit-smt2` writes: it must give the
# verdict Z3 gave (recorded in each file's "; z3:" line). Mainline kvm (proved
# and allow-listed queries) and one mutant per kind of refutation.
# Usage: smt2_cvc5.sh MMUCHECK WORKDIR. Exit 77 (skipped) without cvc5.
set -euo pipefail
mmucheck=$1
work=$2
if ! command -v cvc5 > /dev/null; then
  echo "SKIP: cvc5 is not installed (ci/setup installs it)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
# Every theorem for mainline and for 3.14; for a few mutants the theorem each breaks (its
# pieces up to the refuted one: "sat" answers).
"$mmucheck" prove --engine kvm --emit-smt2 "$work" > "$work/prove.log"
"$mmucheck" prove --engine kvm-3.14 --emit-smt2 "$work" >> "$work/prove.log"
for pair in amd-bit8-on-pdpe:T3-reserved-bits smap-ignores-implicit:T1-permissions \
            shadow-nx-from-guest:T4-ept-misconfig stale-cr0-wp:T10-context-reset pfec-keeps-fetch:T7-error-code; do
  # Exit 1: a refuted theorem, which is what these mutants must give.
  status=0
  "$mmucheck" prove --engine "kvm:${pair%%:*}" --theorem "${pair#*:}" --emit-smt2 "$work" >> "$work/prove.log" || status=$?
  [[ $status == 1 ]] || { echo "kvm:${pair%%:*} ${pair#*:}: expected a refutation (exit 1), got $status"; exit 1; }
done
# One line per file: "agree|MISMATCH z3-verdict cvc5-verdict file", two cvc5 at a time.
check() {
  local want got
  want=$(sed -n 's/^; z3: //p' "$1" | head -n1)
  got=$(timeout 120 cvc5 --lang smt2 "$1" 2>&1 | head -n1 || true)
  if [[ "$got" == "$want" ]]; then echo "agree $want $got $1"; else echo "MISMATCH $want $got $1"; fi
}
export -f check
find "$work" -name '*.smt2' -print0 | sort -z | xargs -0 -P 2 -I{} bash -c 'check "$1"' _ {} > "$work/verdicts.txt"
files=$(wc -l < "$work/verdicts.txt")
failed=$(grep -c '^MISMATCH' "$work/verdicts.txt" || true)
sat=$(grep -c '^agree sat' "$work/verdicts.txt" || true)
grep '^MISMATCH' "$work/verdicts.txt" || true
echo "cvc5 on $files queries ($sat sat): $((files - failed)) agree with z3, $failed differ"
[[ $files -gt 50 && $sat -ge 5 && $failed == 0 ]]
