#!/usr/bin/env bash
# Every bug-zoo regression case (corpus/bug_zoo/<mutant>.json) exposes its
# mutant: `replay --engines ref,kvm:<mutant>` diverges, and mainline kvm agrees
# with the reference on it. pse36-fixed-bits is mainline's own behaviour, so its
# case must instead show the allow-listed finding for both.
# Usage: bug_zoo.sh MMUCHECK SOURCE_DIR
set -u
bin=$1
src=$2
fail=0
mutants=$("$bin" mutants | awk '{print $1}' | sed 's/^kvm://')
for m in $mutants; do
  f="$src/corpus/bug_zoo/$m.json"
  if [[ ! -f "$f" ]]; then
    echo "FAIL $m: no regression case $f (corpus/gen_bug_zoo.py writes it)"
    fail=1
    continue
  fi
  if [[ "$m" == pse36-fixed-bits ]]; then
    known=$("$bin" replay --json --engines ref,kvm:$m,kvm "$f" | jq -r '[.runs[] | select(.known) | .known] | join(",")')
    if [[ "$known" != "pse36-fixed-bits,pse36-fixed-bits" ]]; then
      echo "FAIL $m: expected the known finding for kvm:$m and kvm, got '$known'"
      fail=1
    fi
    continue
  fi
  "$bin" replay --engines ref,kvm:$m "$f" > /dev/null
  rc=$?
  if [[ $rc -ne 1 ]]; then
    echo "FAIL $m: replay ref,kvm:$m exited $rc, expected 1 (divergence)"
    fail=1
  fi
  "$bin" replay --engines ref,kvm "$f" > /dev/null
  rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "FAIL $m: replay ref,kvm exited $rc, expected 0 (mainline agrees)"
    fail=1
  fi
done
[[ $fail -eq 0 ]] && echo "bug zoo: $(echo "$mutants" | wc -w) mutants, each exposed by its regression case"
exit $fail
