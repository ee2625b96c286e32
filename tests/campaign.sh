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
"$bin" campaign --time 6 --engines kvm --out "$tmp/a" --corpus "$src/corpus" 2> "$tmp/a.log"
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
"$bin" campaign --time 3 --engines kvm --out "$tmp/a" --corpus "$src/corpus" 2> "$tmp/a2.log" || fail "resumed campaign"
grep -q "resuming" "$tmp/a2.log" || fail "second run did not resume"
jq -e --argjson c "$cases1" '.random.cases > $c and (.runs | length) == 2' "$tmp/a/state.json" > /dev/null ||
  fail "resume lost or did not add random cases"

# 3. Killed at any moment: the state and the store stay readable, a rerun completes.
"$bin" campaign --time 30 --engines kvm:stale-cr0-wp --out "$tmp/k" --corpus "$src/corpus" 2> "$tmp/k.log" &
pid=$!
sleep 4
kill -9 $pid
wait $pid 2> /dev/null
jq -e . "$tmp/k/state.json" > /dev/null || fail "state.json unreadable after kill -9"
[[ ! -e "$tmp/k/divergences/index.json" ]] || jq -e . "$tmp/k/divergences/index.json" > /dev/null ||
  fail "divergence index unreadable after kill -9"
"$bin" campaign --time 4 --engines kvm:stale-cr0-wp --out "$tmp/k" --corpus "$src/corpus" 2> "$tmp/k2.log"
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
echo "campaign: report consistent, resume and kill-safety hold, $n stored divergences replay, Chromium renders the numbers"
