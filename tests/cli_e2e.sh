#!/usr/bin/env bash
# End-to-end tests of the mmucheck command line: exit codes, output shape,
# malformed input. Usage: cli_e2e.sh MMUCHECK SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # check NAME EXPECTED_STATUS ACTUAL_STATUS
  if [[ $2 != "$3" ]]; then echo "FAIL $1: exit $3, expected $2"; fails=$((fails + 1)); else echo "ok   $1"; fi
}
expect_grep() {  # expect_grep NAME PATTERN FILE
  if grep -q -- "$2" "$3"; then echo "ok   $1"; else echo "FAIL $1: '$2' not in $3:"; cat "$3"; fails=$((fails + 1)); fi
}

good='{"cpu":{"cr0":"0x80010011","cr3":"0x1000","cr4":"0x20","efer":"0xd00","cpl":3,"maxphyaddr":46,"features":["nx"]},"access":{"addr":"0x1000","kind":"write"},"memory":{"0x1000":"0x2007","0x2000":"0x3007","0x3000":"0x4007","0x4008":"0x5007"}}'

# eval: JSON lines in, one outcome per line out.
printf '%s\n%s\n' "$good" "$good" > "$tmp/two.jsonl"
"$bin" eval "$tmp/two.jsonl" > "$tmp/out" 2> "$tmp/err"; check eval-ok 0 $?
[[ $(wc -l < "$tmp/out") == 2 ]] && echo "ok   eval-one-line-per-case" || { echo "FAIL eval-one-line-per-case"; fails=$((fails + 1)); }
jq -e '.outcome == "ok" and .pa == "0x5000" and .page_size == 4096' < <(head -1 "$tmp/out") > /dev/null
check eval-outcome-fields 0 $?

# eval from stdin, with a trace.
echo "$good" | "$bin" eval --trace - > "$tmp/out"; check eval-stdin 0 $?
jq -e '.trace.decided_by.rule == "access.ok" and (.trace.steps | length) == 4' "$tmp/out" > /dev/null
check eval-trace 0 $?

# Malformed line in the middle: message names the line, later lines still evaluated, exit 2.
printf '%s\n{"cpu": oops}\n%s\n' "$good" "$good" > "$tmp/bad.jsonl"
"$bin" eval "$tmp/bad.jsonl" > "$tmp/out" 2> "$tmp/err"; check eval-malformed 2 $?
expect_grep eval-malformed-names-line "bad.jsonl:2: malformed JSON" "$tmp/err"
[[ $(jq -r '.outcome // "error"' "$tmp/out" | tr '\n' ' ') == "ok error ok " ]] && echo "ok   eval-malformed-keeps-going" ||
  { echo "FAIL eval-malformed-keeps-going"; cat "$tmp/out"; fails=$((fails + 1)); }

# Impossible CPU state: CR4.PKE without pku.
echo "${good/\"0x20\"/\"0x400020\"}" | "$bin" eval - > "$tmp/out" 2> "$tmp/err"; check eval-impossible-state 2 $?
expect_grep eval-impossible-names-field "<stdin>:1: cpu.cr4: CR4.PKE = 1" "$tmp/err"

# Truncated pretty document.
printf '%s' "$good" | jq . > "$tmp/pretty.json"
head -c 200 "$tmp/pretty.json" > "$tmp/cut.json"
"$bin" eval "$tmp/cut.json" > "$tmp/out" 2> "$tmp/err"; check eval-truncated 2 $?
expect_grep eval-truncated-message "cut.json:[0-9]*: malformed JSON" "$tmp/err"

# Empty input and binary garbage never crash.
: | "$bin" eval - > /dev/null 2>&1; check eval-empty 0 $?
head -c 4096 /dev/urandom > "$tmp/garbage"
"$bin" eval "$tmp/garbage" > /dev/null 2>&1; check eval-garbage 2 $?

# Missing file, unknown engine, unknown verb.
"$bin" eval "$tmp/nope.json" > /dev/null 2> "$tmp/err"; check eval-missing-file 2 $?
expect_grep eval-missing-file-message "nope.json: cannot open" "$tmp/err"
"$bin" eval --engine nosuch "$tmp/two.jsonl" > /dev/null 2> "$tmp/err"; check eval-unknown-engine 2 $?
expect_grep eval-unknown-engine-message "unknown engine 'nosuch'" "$tmp/err"
"$bin" frobnicate > /dev/null 2>&1; check unknown-verb 2 $?

# replay: agreement, divergence from an expectation, JSON output, summary.
printf '%s' "$good" | jq '. + {expect: {outcome: "ok", pa: "0x5000", page_size: 4096, writes: [
  {space: "guest", addr: "0x1000", value: "0x2027"}, {space: "guest", addr: "0x2000", value: "0x3027"},
  {space: "guest", addr: "0x3000", value: "0x4027"}, {space: "guest", addr: "0x4008", value: "0x5067"}]}}' > "$tmp/agree.json"
"$bin" replay --color never "$tmp/agree.json" > "$tmp/out"; check replay-agree 0 $?
expect_grep replay-trace-shows-levels "PML4E" "$tmp/out"
expect_grep replay-trace-shows-rule "decided by access.ok (SDM 4.6)" "$tmp/out"
jq '.expect.pa = "0x6000"' "$tmp/agree.json" > "$tmp/diverge.json"
"$bin" replay --color never "$tmp/diverge.json" > "$tmp/out"; check replay-diverge 1 $?
expect_grep replay-diverge-marked "DIVERGES" "$tmp/out"
"$bin" replay --json "$tmp/agree.json" "$tmp/diverge.json" > "$tmp/out"; check replay-json 1 $?
[[ $(jq -s 'map(.agree) | tostring' "$tmp/out") == '"[true,false]"' ]] && echo "ok   replay-json-shape" ||
  { echo "FAIL replay-json-shape"; fails=$((fails + 1)); }
"$bin" replay --summary "$src/corpus" > "$tmp/out"; check replay-corpus-summary 0 $?
expect_grep replay-summary-line "0 diverge, 0 bad input" "$tmp/out"
"$bin" replay "$tmp/agree.json" "$tmp/cut.json" > /dev/null 2>&1; check replay-bad-input 2 $?

# The bug zoo: every mutant is an engine.
"$bin" mutants > "$tmp/out"; check mutants 0 $?
expect_grep mutants-lists "kvm:smap-ignores-implicit" "$tmp/out"
"$bin" replay --engines ref,kvm:smap-ignores-implicit "$src/corpus/guest_walk/4level-smap-implicit-ac1-cpl0.json" > "$tmp/out"
check mutant-diverges 1 $?
"$bin" tables "$src/corpus/guest_walk/4level-smap-implicit-ac1-cpl0.json" > "$tmp/out"; check tables 0 $?
expect_grep tables-layout "permissions\[16\]" "$tmp/out"

# exhaust: divergence exit code, case files written, unknown space.
"$bin" exhaust --space permissions --engines ref,ref > "$tmp/out"; check exhaust-agree 0 $?
# Mainline kvm differs from the reference here only where the allow-list explains it: exit 0, counted as known.
"$bin" exhaust --space permissions --engines ref,kvm --json > "$tmp/out"; check exhaust-known-only 0 $?
jq -e '.divergences == 0 and .known["id-in-32bit-paging"] > 0' "$tmp/out" > /dev/null; check exhaust-json-known 0 $?
"$bin" exhaust --space permissions --engines ref,kvm:pfec-keeps-fetch --out "$tmp/exh" --json > "$tmp/out"; check exhaust-diverge 1 $?
jq -e '.divergences > 0 and (.written | length) == 5' "$tmp/out" > /dev/null; check exhaust-json 0 $?
# --json: one object on stdout with the counts, the rate and the first divergent cases; no progress
# on stderr when it is not a terminal.
"$bin" exhaust --space permissions --engines ref,kvm:inherited-access-from-leaf-parent --jobs 2 --json \
  > "$tmp/xout" 2> "$tmp/xerr"; check exhaust-json-mutant 1 $?
jq -e '.points == .illegal + .unsupported + .compared and .divergences > 0 and .points_per_second > 0 and
       .jobs == 2 and (.first | length) == 5 and .first[0].index >= 0 and (.first[0].case.cpu | type) == "object"' \
  "$tmp/xout" > /dev/null; check exhaust-json-fields 0 $?
[[ ! -s "$tmp/xerr" ]]; check exhaust-json-quiet-stderr 0 $?
"$bin" replay --engines ref,kvm:pfec-keeps-fetch "$(jq -r '.written[0]' "$tmp/out")" > /dev/null; check exhaust-case-replays-diverging 1 $?
"$bin" exhaust --space nosuch > /dev/null 2>&1; check exhaust-unknown-space 2 $?

# Directories where a case file is expected, and empty inputs, are bad input.
"$bin" eval "$tmp" > /dev/null 2> "$tmp/err"; check eval-directory 2 $?
expect_grep eval-directory-message "is a directory" "$tmp/err"
"$bin" tables "$tmp" > /dev/null 2>&1; check tables-directory 2 $?
mkdir -p "$tmp/empty"
"$bin" replay "$tmp/empty" > /dev/null 2> "$tmp/err"; check replay-no-cases 2 $?
expect_grep replay-no-cases-message "no case files found" "$tmp/err"
"$bin" exhaust --space permissions --out /proc/nope > /dev/null 2>&1; check exhaust-bad-out 2 $?

# Every verb has --help.
# --engines takes one comma-separated list: the case files after it stay cases.
"$bin" replay --engines ref,kvm "$src/corpus/guest_walk/4level-smap-implicit-ac1-cpl0.json" \
  "$src/corpus/guest_walk/32bit-4k-read-sets-a.json" > "$tmp/out"; check engines-then-cases 0 $?
"$bin" minimize --engines ref,kvm:stale-cr0-wp "$src/corpus/bug_zoo/stale-cr0-wp.json" --out "$tmp/min.json" > "$tmp/out"
check minimize-engines-then-case 0 $?
for verb in eval replay rules engines tables mutants exhaust; do "$bin" $verb --help > /dev/null; check "help-$verb" 0 $?; done
"$bin" --help > /dev/null; check help 0 $?

echo "$fails failure(s)"
exit $((fails > 0))
