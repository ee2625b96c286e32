#!/usr/bin/env bash
# The emulator oracles against the reference (docs/hardware.md): the guest-walk
# corpus and a few thousand decoded random cases on QEMU (TCG) and Bochs, and
# on Bochs the EPT/nested corpus and random EPT and nested cases (VMX probe).
# Passes when every compared case agrees or is a documented known deviation;
# also checks that without the allow-list QEMU does diverge (the comparison is
# not vacuous) and that a missing emulator is reported with exit 3.
# Exit 77 (skipped) when neither emulator or the probe image is available.
set -uo pipefail
mmucheck=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ran=0

run() {  # name, expected exit, args...
  local name=$1 want=$2
  shift 2
  "$mmucheck" oracle --json "$@" >"$tmp/out.json" 2>"$tmp/err.txt"
  local rc=$?
  if [[ $rc == 3 ]]; then
    echo "SKIP $name: $(cat "$tmp/err.txt")"
    return 0
  fi
  ran=$((ran + 1))
  if [[ $rc != "$want" ]]; then
    echo "FAIL $name: exit $rc, expected $want"
    jq -c '{compared,agree,known,diverge,unexpected,hang,crash,findings:.findings[:3]}' "$tmp/out.json" 2>/dev/null
    cat "$tmp/err.txt"
    fail=1
    return 0
  fi
  echo "ok   $name: $(jq -c '{cases,compared,agree,known,diverge,unexpected,hang,crash,unsupported,boots,seconds}' "$tmp/out.json")"
  # the comparison must have compared something
  if [[ $want == 0 && $(jq '.compared' "$tmp/out.json") -lt 100 ]]; then
    echo "FAIL $name: fewer than 100 cases compared"
    fail=1
  fi
}

run "qemu corpus" 0 --engine qemu "$src/corpus/guest_walk"
run "qemu random" 0 --engine qemu --random 2500 --seed 7
run "bochs corpus (CPUID fitted)" 0 --engine bochs --fit-cpu "$src/corpus/guest_walk"
run "bochs random" 0 --engine bochs --random 2500 --seed 7
# EPT and nested cases: the probe as L1 under Bochs' VMX (docs/hardware.md)
run "bochs EPT/nested corpus (CPUID fitted)" 0 --engine bochs --fit-cpu "$src/corpus/ept_walk" "$src/corpus/nested_walk"
# capabilities Bochs lacks make a case unsupported, with the capability named
if [[ -s "$tmp/out.json" ]] && ! jq -e '.unsupported_by_reason | keys |
    (map(test("lacks mode-based execute control")) | any) and (map(test("lacks N-level EPT")) | any)' \
    "$tmp/out.json" >/dev/null; then
  echo "FAIL MBEC/5-level EPT cases are not reported unsupported on Bochs: $(jq -c .unsupported_by_reason "$tmp/out.json")"
  fail=1
fi
run "bochs random EPT" 0 --engine bochs --random 2500 --seed 7 --shape ept
run "bochs random nested" 0 --engine bochs --random 3000 --seed 7 --shape nested
# shadow-stack accesses under EPT run (L2's WRSS / RET, docs/hardware.md): some
# of each kind were compared, and some completed
if [[ -s "$tmp/out.json" ]] && ! jq -e '.compared_by_access as $a |
    ($a["shadow-stack read"] // {} | add // 0) >= 20 and ($a["shadow-stack write"] // {} | add // 0) >= 20 and
    (($a["shadow-stack read"].ok // 0) + ($a["shadow-stack write"].ok // 0)) >= 1' "$tmp/out.json" >/dev/null; then
  echo "FAIL too few shadow-stack accesses compared under EPT: $(jq -c .compared_by_access "$tmp/out.json")"
  fail=1
fi
MMUCHECK_PROBE_NO_KNOWN=1 run "bochs EPT/nested corpus without the allow-list diverges" 1 --engine bochs --fit-cpu \
  "$src/corpus/ept_walk" "$src/corpus/nested_walk"
MMUCHECK_PROBE_NO_KNOWN=1 run "qemu corpus without the allow-list diverges" 1 --engine qemu "$src/corpus/guest_walk"

# Every allow-list entry still reproduces: its evidence case in
# corpus/known-deviations/ENGINE/ID.json is a known deviation, with that id.
for engine in qemu bochs; do
  dir="$src/corpus/known-deviations/$engine"
  "$mmucheck" oracle --json --engine "$engine" "$dir" >"$tmp/kd.json" 2>"$tmp/err.txt"
  rc=$?
  if [[ $rc == 3 ]]; then continue; fi
  for f in "$dir"/*.json; do
    id=$(basename "$f" .json)
    if ! jq -e --arg id "$id" '.known_by_id | keys | map(split("+")) | flatten | index($id) != null' "$tmp/kd.json" >/dev/null; then
      echo "FAIL known deviation $id no longer reproduces on $engine: $(jq -c '{agree,known,diverge,unexpected}' "$tmp/kd.json")"
      fail=1
    fi
  done
  if [[ $(jq '.agree + .diverge + .unexpected + .hang + .crash' "$tmp/kd.json") != 0 ]]; then
    echo "FAIL $engine known-deviation cases: $(jq -c '{agree,known,diverge,unexpected,hang,crash}' "$tmp/kd.json")"
    fail=1
  else
    echo "ok   $engine known deviations reproduce: $(jq -c .known_by_id "$tmp/kd.json")"
  fi
done

# A missing emulator binary: exit 3 and a message naming it.
PATH=/nonexistent "$mmucheck" oracle --engine bochs --random 1 >/dev/null 2>"$tmp/err.txt"
rc=$?
if [[ $rc != 3 ]] || ! grep -q "bochs is not installed" "$tmp/err.txt"; then
  echo "FAIL missing emulator: exit $rc: $(cat "$tmp/err.txt")"
  fail=1
fi

# kvm-hw where there is no KVM device: exit 4 and a message saying so.
MMUCHECK_KVM_DEVICE=/nonexistent/kvm "$mmucheck" oracle --engine kvm-hw --random 1 >/dev/null 2>"$tmp/err.txt"
rc=$?
if [[ $rc != 4 ]] || ! grep -q "/nonexistent/kvm is absent" "$tmp/err.txt"; then
  echo "FAIL kvm-hw without KVM: exit $rc: $(cat "$tmp/err.txt")"
  fail=1
fi
MMUCHECK_KVM_DEVICE=/nonexistent/kvm "$mmucheck" eval --engine kvm-hw "$src/corpus/guest_walk/4level-4k-read.json" >"$tmp/out.json"
if ! grep -q '"unsupported":"kvm-hw: /nonexistent/kvm is absent' "$tmp/out.json"; then
  echo "FAIL eval --engine kvm-hw without KVM: $(cat "$tmp/out.json")"
  fail=1
fi

if ((ran == 0)); then exit 77; fi
exit $fail
