#!/usr/bin/env bash
# Exhaustive checks on a release build (millions of points per space):
#  - ref vs kvm on every space: no divergence outside the allow-list (exit 0);
#  - every bug-zoo mutant is caught by the space corpus/bug_zoo/catching-spaces.txt
#    names (exit 1), except pse36-fixed-bits, which is mainline's own
#    behaviour: its divergences must all be the allow-listed finding.
# Usage: bug_zoo_spaces.sh MMUCHECK SOURCE_DIR
set -u
bin=$1
src=$2
fail=0
spaces=$("$bin" exhaust --space '?' 2>&1 | sed -n 's/.*(known: \(.*\))$/\1/p' | tr -d ',')
[[ -n "$spaces" ]] || { echo "FAIL: could not list the spaces"; exit 1; }
for s in $spaces; do
  out=$("$bin" exhaust --space "$s" --engines ref,kvm --jobs "$(nproc)" 2>/dev/null)
  rc=$?
  echo "$out" | head -3
  if [[ $rc -ne 0 ]]; then echo "FAIL ref,kvm on $s: exit $rc"; fail=1; fi
done
while IFS='|' read -r m s; do
  m=$(echo "$m" | xargs); s=$(echo "$s" | xargs)
  [[ -z "$m" || "$m" == \#* ]] && continue
  json=$("$bin" exhaust --space "$s" --engines ref,kvm:"$m" --jobs "$(nproc)" --json 2>/dev/null)
  rc=$?
  div=$(echo "$json" | jq .divergences)
  known=$(echo "$json" | jq '[.known[]] | add // 0')
  if [[ "$m" == pse36-fixed-bits ]]; then
    if [[ $rc -ne 0 || "$known" -eq 0 ]]; then echo "FAIL kvm:$m on $s: exit $rc, known $known"; fail=1; fi
  elif [[ $rc -ne 1 || "$div" -eq 0 ]]; then
    echo "FAIL kvm:$m not caught by $s (exit $rc)"; fail=1
  fi
  echo "kvm:$m on $s: $div divergences, $known known"
done < "$src/corpus/bug_zoo/catching-spaces.txt"
[[ $fail -eq 0 ]] && echo "bug_zoo_spaces: every space agrees for kvm, every mutant caught"
exit $fail
