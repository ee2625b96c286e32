#!/usr/bin/env bash
# The mainline kvm engine against the reference on the whole corpus: no
# divergence the allow-list does not explain, and the known ones are exactly
# tests/kvm_known_divergences.txt (file and finding id).
# Usage: kvm_vs_ref.sh MMUCHECK SOURCE_DIR
set -u
bin=$1
src=$2
out=$("$bin" replay --json --engines ref,kvm "$src/corpus")
unexplained=$(echo "$out" | jq -r 'select(.agree == false) | .source' | sed "s|^$src/corpus/||" | sort)
if [[ -n "$unexplained" ]]; then
  echo "kvm vs ref: divergences the allow-list does not explain:"
  echo "$unexplained"
  exit 1
fi
actual=$(echo "$out" | jq -r '. as $r | .runs[] | select(.known) | "\($r.source) | \(.known)"' | sed "s|^$src/corpus/||" | sort)
expected=$(grep -v '^#' "$src/tests/kvm_known_divergences.txt" | grep -v '^$' | sort)
if [[ "$actual" == "$expected" ]]; then
  echo "kvm vs ref: $(echo "$expected" | wc -l) known findings, no other divergence"
  exit 0
fi
echo "kvm vs ref: the set of known findings changed"
diff <(echo "$expected") <(echo "$actual") | sed 's/^</expected, not seen:/; s/^>/seen, not expected:/'
exit 1
