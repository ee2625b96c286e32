#!/usr/bin/env bash
# mmucheck campaign end to end: a short run writes a report whose numbers match
# its state; a second run resumes; a run killed mid-way loses nothing; a
# mutant's divergences are stored minimised and replay with one command; and
# headless Chromium renders report.html with the numbers of report.json.
# Usage: campaign.sh MMUCHECK SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1. A short campaign on mainline kvm: no divergence, a consistent report.
"$bin" campaign --time 6 --engines kvm --out "$tmp/a" --corpus "$src/corpus" --fuzzers "" --oracle-cases 0 2> "$tmp/a.log"
rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/a.log"; fail "campaign on kvm exited $rc"; }
r="$tmp/a/report.json"
[[ -s "$r" && -s "$tmp/a/report.html" ]] || fail "no report"
jq -e '.summary.exhaust.compared == ([.exhaust[].compared] | add // 0)' "$r" > /dev/null || fail "exhaust total differs from its rows"
jq -e '.summary.random_cases == .random.cases and .random.cases > 0' "$r" > /dev/null || fail "random cases"
jq -e '.summary.rules.checked == ([.coverage[] | select(.checked > 0)] | length)' "$r" > /dev/null || fail "rule coverage"
jq -e '.summary.bug_zoo.mutants == 18 and .summary.bug_zoo.caught == 18' "$r" > /dev/null || fail "bug zoo status"
cases1=$(jq .random.cases "$tmp/a/state.json")

# 2. Resume: the same DIR continues (more random cases, two runs, nothing redone).
# (The resumed run skips the finished proofs, so its oracle phase starts at once.)
"$bin" campaign --time 10 --engines kvm --out "$tmp/a" --corpus "$src/corpus" --fuzzers "" --oracle-cases 50 2> "$tmp/a2.log" || {
  cat "$tmp/a2.log"; fail "resumed campaign"; }
# Oracles: each emulator this machine has ran its sample, and its counts add up.
jq -e '[.oracles[] | select(.status == "available") | .cases == .compared + .unsupported and
        .compared == .agree + .divergences + ([.known[]] | add // 0) and .compared > 0] | all' "$tmp/a/report.json" > /dev/null ||
  fail "oracle counts do not add up: $(jq -c .oracles "$tmp/a/report.json")"
jq -e '[.oracles[] | .status | test("^(available|not available here: |not asked for)")] | all' "$tmp/a/report.json" > /dev/null ||
  fail "an oracle failed: $(jq -c '[.oracles[] | {name, status}]' "$tmp/a/report.json")"
jq -e '.summary.oracles.compared == ([.oracles[].compared] | add // 0)' "$tmp/a/report.json" > /dev/null || fail "oracle summary"
if command -v qemu-system-x86_64 > /dev/null && command -v bochs > /dev/null; then
  jq -e '[.oracles.qemu, .oracles.bochs] | map(.status == "available" and .compared > 0) | all' "$tmp/a/state.json" > /dev/null ||
    fail "QEMU and Bochs are installed but were not sampled: $(jq -c '[.oracles[] | {status}]' "$tmp/a/state.json")"
fi

grep -q "resuming" "$tmp/a2.log" || fail "second run did not resume"
jq -e --argjson c "$cases1" '.random.cases > $c and (.runs | length) == 2' "$tmp/a/state.json" > /dev/null ||
  fail "resume lost or did not add random cases"

# 3. Killed at any moment: the state and the store stay readable, a rerun completes.
"$bin" campaign --time 30 --engines kvm:stale-cr0-wp --out "$tmp/k" --corpus "$src/corpus" --fuzzers "" --oracle-cases 0 2> "$tmp/k.log" &
pid=$!
sleep 4
kill -9 $pid
wait $pid 2> /dev/null
jq -e . "$tmp/k/state.json" > /dev/null || fail "state.json unreadable after kill -9"
[[ ! -e "$tmp/k/divergences/index.json" ]] || jq -e . "$tmp/k/divergences/index.json" > /dev/null ||
  fail "divergence index unreadable after kill -9"
"$bin" campaign --time 4 --engines kvm:stale-cr0-wp --out "$tmp/k" --corpus "$src/corpus" --fuzzers "" --oracle-cases 0 2> "$tmp/k2.log"
[[ $? -eq 1 ]] || { cat "$tmp/k2.log"; fail "a mutant's campaign should end with divergences (exit 1)"; }

# 4. Every stored divergence replays, minimised, with the command the report gives.
n=0
while read -r engines min; do
  "$bin" replay --engines "$engines" "$min" > /dev/null
  [[ $? -eq 1 ]] || fail "stored divergence $min does not replay as a divergence"
  n=$((n + 1))
done < <(jq -r '.divergences[] | "\(.engines) \(.minimized_path)"' "$tmp/k/report.json")
[[ $n -gt 0 ]] || fail "kvm:stale-cr0-wp campaign stored no divergence"

# 5. The page, rendered by headless Chromium, shows report.json's numbers.
chromium=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$chromium" ]] || fail "chromium is not installed (ci/setup installs it)"
"$chromium" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 --dump-dom "file://$tmp/k/report.html" \
  > "$tmp/dom.html" 2> /dev/null || fail "chromium could not render the report"
card() { sed -n "s/.*data-key=\"$1\">\([^<]*\)<.*/\1/p" "$tmp/dom.html" | head -1; }
rj="$tmp/k/report.json"
[[ "$(card 'new divergences')" == "$(jq .summary.divergences.new "$rj")" ]] || fail "rendered new divergences differ"
[[ "$(card 'theorems proved')" == "$(jq .summary.proofs.proved "$rj")" ]] || fail "rendered proofs differ"
[[ "$(card 'bug-zoo mutants caught')" == "$(jq -r '"\(.summary.bug_zoo.caught) / \(.summary.bug_zoo.mutants)"' "$rj")" ]] ||
  fail "rendered bug zoo differs"
[[ "$(card 'random cases')" == "$(jq -r '.summary.random_cases' "$rj" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')" ]] ||
  fail "rendered random cases differ: $(card 'random cases')"
grep -q "<svg" "$tmp/dom.html" || fail "no chart rendered"
# 6. The store verbs: list, mark known (needs a reason), mark fixed; a fixed
#    entry seen again is new again.
first=$(jq -r '.divergences[0].id' "$tmp/k/report.json")
"$bin" store list "$tmp/k" | grep -q "^$first " || fail "store list does not show $first"
"$bin" store mark "$tmp/k" "$first" known > /dev/null 2>&1
[[ $? -eq 2 ]] || fail "store mark known without --reason accepted"
"$bin" store mark "$tmp/k" d9999 fixed > /dev/null 2>&1
[[ $? -eq 1 ]] || fail "store mark of a missing entry did not exit 1"
"$bin" store mark "$tmp/k" "$first" known --reason "test" > /dev/null || fail "store mark known"
jq -e --arg id "$first" '.divergences[] | select(.id == $id) | .status == "known" and .reason == "test"' \
  "$tmp/k/divergences/index.json" > /dev/null || fail "mark known not saved"
for id in $(jq -r '.divergences[].id' "$tmp/k/divergences/index.json"); do
  "$bin" store mark "$tmp/k" "$id" fixed > /dev/null || fail "store mark fixed"
done
"$bin" campaign --time 3 --engines kvm:stale-cr0-wp --out "$tmp/k" --corpus "$src/corpus" --fuzzers '' --oracle-cases 0 2> "$tmp/k3.log"
[[ $? -eq 1 ]] || fail "a fixed divergence seen again should make the campaign exit 1"
jq -e '[.divergences[] | select(.status == "new" and (.reason | startswith("seen again")))] | length > 0' \
  "$tmp/k/divergences/index.json" > /dev/null || fail "no fixed entry reopened as new"

# 7. Fuzz targets as processes: stand-ins that behave like libFuzzer binaries
#    (stats on stderr; one writes a divergence file, one crashes without one).
fz="$tmp/fuzzers"
mkdir -p "$fz"
jq '. + {divergence: {target: "fuzz_guest_walk", engines: ["ref", "kvm:stale-cr0-wp"]}}' \
  "$src/corpus/bug_zoo/stale-cr0-wp.json" > "$tmp/div.json"
{
  echo '#!/usr/bin/env bash'
  echo '# arguments: libFuzzer flags, --divergence-dir=D, the corpus directory last'
  echo 'for a in "$@"; do case $a in --divergence-dir=*) d=${a#*=};; -artifact_prefix=*) p=${a#*=};; esac; done'
  echo '[[ -n "$(ls "${@: -1}")" ]] || { echo "no seeds" >&2; exit 3; }'
  printf 'echo "#1000\tDONE   cov: 321 ft: 400 corp: 5/1Kb exec/s: 1000 rss: 30Mb" >&2\n'
  echo "cp '$tmp/div.json' \"\$d/fake-\$\$.json\"; echo x > \"\${p}crash-\$\$\""
  echo 'echo "fuzz_guest_walk: DIVERGENCE not explained by the allow-list" >&2'
  echo 'echo "stat::number_of_executed_units: 1000" >&2; echo "stat::average_exec_per_sec: 1000" >&2'
  echo 'exit 1'
} > "$fz/fuzz_guest_walk"
{
  echo '#!/usr/bin/env bash'
  echo 'for a in "$@"; do case $a in -artifact_prefix=*) p=${a#*=};; esac; done'
  echo 'echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow" >&2; echo x > "${p}crash-$$"'
  echo 'echo "stat::number_of_executed_units: 10" >&2'
  echo 'exit 1'
} > "$fz/fuzz_case_json"
chmod +x "$fz"/*
"$bin" campaign --time 8 --jobs 2 --engines kvm --out "$tmp/f" --corpus "$src/corpus" --fuzzers "$fz" --oracle-cases 0 2> "$tmp/f.log"
rc=$?
[[ $rc -eq 1 ]] || { cat "$tmp/f.log"; fail "a campaign whose fuzzers diverge and crash should exit 1, not $rc"; }
grep -q "fuzzing 2 targets" "$tmp/f.log" || { cat "$tmp/f.log"; fail "the fuzz targets were not found"; }
grep -q "new divergence (fuzz target fuzz_guest_walk)" "$tmp/f.log" || { cat "$tmp/f.log"; fail "fuzz divergence not stored"; }
fr="$tmp/f/report.json"
jq -e '.fuzz.targets.fuzz_guest_walk.runs > 0 and .fuzz.targets.fuzz_guest_walk.coverage == 321' "$fr" > /dev/null ||
  fail "fuzz_guest_walk's runs or coverage not parsed"
jq -e '.summary.fuzz.execs == ([.fuzz.targets[].execs] | add)' "$fr" > /dev/null || fail "fuzz executions differ from rows"
jq -e '.summary.fuzz.crashes == (.fuzz.targets.fuzz_case_json.crashes | length) and .summary.fuzz.crashes > 0 and
       (.fuzz.targets.fuzz_guest_walk.crashes | length) == 0' "$fr" > /dev/null ||
  fail "a crash without a divergence must be listed, a divergence's abort must not"
jq -e '.fuzz.targets.fuzz_case_json.last_error | test("AddressSanitizer")' "$fr" > /dev/null || fail "crash's error line lost"
ls "$tmp/f/fuzz/fuzz_guest_walk/corpus" | grep -q '^seed_bug_zoo_stale-cr0-wp.json.bin$' || fail "guest-walk seeds not written"
ls "$tmp/f/fuzz/fuzz_case_json/corpus" | grep -q '^seed_guest_walk_' || fail "JSON seeds not written"
# Per-engine rule coverage: an engine's counts never exceed the reference's.
jq -e '[.coverage[] | .engines.kvm.checked <= .checked] | all' "$fr" > /dev/null || fail "per-engine coverage bound"
jq -e '[.coverage[] | .engines.kvm.checked] | add > 0' "$fr" > /dev/null || fail "no per-engine coverage"

echo "campaign: report consistent, resume and kill-safety hold, $n stored divergences replay, Chromium renders the numbers, store verbs work, fuzz targets run as processes"
