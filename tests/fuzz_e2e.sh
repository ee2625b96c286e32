#!/usr/bin/env bash
# End to end: a fuzz target that meets a divergence writes it as a case file
# and aborts; the file replays with `mmucheck replay` (diverging for the mutant,
# agreeing for mainline); its recorded input decodes back to the same case with
# `mmucheck decode`; seeds written by fuzz_seeds decode to their cases.
#
#   tests/fuzz_e2e.sh GUEST_REPLAY EPT_REPLAY MMUCHECK FUZZ_SEEDS SOURCE_DIR WORK_DIR
set -uo pipefail
guest=$1 ept=$2 mmucheck=$3 seeds=$4 src=$5 work=$6
rm -rf "$work"
mkdir -p "$work"
fail=0
check() {  # check DESCRIPTION EXPECTED_STATUS ACTUAL_STATUS
  if [[ "$2" == "$3" ]]; then echo "ok: $1"; else echo "FAIL: $1 (exit $3, expected $2)"; fail=1; fi
}
same_case() {  # same_case A B: equal as cases (name, expect and divergence aside)
  diff <(jq -S 'del(.name, .expect, .divergence)' "$1") <(jq -S 'del(.name, .expect, .divergence)' "$2") >/dev/null
}

# 1. A guest-paging mutant with history (the context-reset bug).
zoo=$src/corpus/bug_zoo
MMUCHECK_ENGINES=ref,kvm:stale-cr0-wp MMUCHECK_DIVERGENCE_DIR=$work/div "$guest" "$zoo/stale-cr0-wp.json" \
  >"$work/guest.log" 2>&1
status=$?
[[ $status -ne 0 ]] && grep -q "DIVERGENCE not explained" "$work/guest.log"
check "fuzz_guest_walk aborts on ref vs kvm:stale-cr0-wp" 0 $?
files=("$work"/div/*.json)
check "exactly one divergence file, no temporary left" "1 0" "${#files[@]} $(find "$work/div" -name '.*' | wc -l)"
div=${files[0]}
"$mmucheck" replay --color never --engines ref,kvm:stale-cr0-wp "$div" >"$work/replay1.log" 2>&1
check "the divergence file replays: ref vs the mutant diverges" 1 $?
"$mmucheck" replay --color never --engines ref,kvm "$div" >"$work/replay2.log" 2>&1
check "the divergence file replays: ref vs mainline agrees" 0 $?
jq -r .divergence.input "$div" >"$work/input.hex"
"$mmucheck" decode --hex --target fuzz_guest_walk "$work/input.hex" >"$work/decoded.json"
check "mmucheck decode --hex reads the recorded input" 0 $?
same_case "$div" "$work/decoded.json"
check "the recorded input decodes to the case in the file" 0 $?
jq -e '.divergence.outcomes | length == 2' "$div" >/dev/null
check "both outcomes recorded" 0 $?

# 2. Mainline on the same input: no divergence, exit 0.
MMUCHECK_ENGINES=ref,kvm MMUCHECK_DIVERGENCE_DIR=$work/div2 "$guest" "$zoo/stale-cr0-wp.json" >/dev/null 2>&1
check "ref vs kvm agrees on it" 0 $?
[[ ! -e "$work/div2" ]]
check "and writes nothing" 0 $?

# 3. An EPT mutant through fuzz_ept_walk, selected with --engines.
"$ept" --engines=ref,kvm:ept-read-not-tracked --divergence-dir="$work/div3" "$zoo/ept-read-not-tracked.json" \
  >"$work/ept.log" 2>&1
[[ $? -ne 0 ]] && ls "$work"/div3/*.json >/dev/null 2>&1
check "fuzz_ept_walk --engines=ref,kvm:ept-read-not-tracked writes its divergence" 0 $?
"$mmucheck" replay --color never --engines ref,kvm:ept-read-not-tracked "$work"/div3/*.json >/dev/null 2>&1
check "which replays as a divergence" 1 $?

# 4. Unknown engines are an error; a known finding is not a crash.
MMUCHECK_ENGINES=ref,bogus "$guest" "$zoo/stale-cr0-wp.json" >/dev/null 2>&1
check "an unknown engine is an error" 2 $?
MMUCHECK_ENGINES=ref,kvm MMUCHECK_DIVERGENCE_DIR=$work/div4 "$guest" "$zoo/pse36-fixed-bits.json" >/dev/null 2>&1
check "the allow-listed pse36-fixed-bits finding is not a divergence" 0 $?

# 5. Seeds decode to their cases.
"$seeds" "$work/seeds" "$src/corpus/guest_walk" >/dev/null 2>&1
check "fuzz_seeds encodes corpus/guest_walk" 0 $?
n=0 bad=0
for case in "$src"/corpus/guest_walk/*.json; do
  stem=$(basename "$case" .json)
  "$mmucheck" decode --target fuzz_guest_walk "$work/seeds/guest_walk_$stem.bin" >"$work/seed.json" || bad=1
  same_case "$case" "$work/seed.json" || { echo "  differs: $case"; bad=1; }
  n=$((n + 1))
  [[ $n -ge 20 ]] && break
done
check "mmucheck decode of 20 seeds gives their cases" 0 $bad

"$seeds" --target fuzz_guest_walk --drop-diverging ref,kvm:stale-cr0-wp "$work/seeds-drop" "$zoo" >/dev/null 2>&1
[[ ! -e "$work/seeds-drop/bug_zoo_stale-cr0-wp.bin" && -e "$work/seeds-drop/bug_zoo_smap-ignores-implicit.bin" ]]
check "fuzz_seeds --drop-diverging leaves out the seeds that expose the mutant" 0 $?

# 6. decode's bad input.
"$mmucheck" decode "$work" >/dev/null 2>&1
check "decode of a directory is bad input" 2 $?
echo "zz" >"$work/bad.hex"
"$mmucheck" decode --hex "$work/bad.hex" >/dev/null 2>&1
check "decode --hex of non-hex is bad input" 2 $?
"$mmucheck" decode --target fuzz_bogus "$work/bad.hex" >/dev/null 2>&1
check "decode --target of an unknown target is bad input" 2 $?
printf '' | "$mmucheck" decode --target nested - | jq -e '.ept and (.cpu.cr0 | ltrimstr("0x") | length > 0)' >/dev/null
check "decode of empty input gives a nested case" 0 $?
exit $fail
