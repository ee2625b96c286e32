#!/usr/bin/env bash
# The mainline kvm engine against the reference on the whole corpus: the set of
# diverging cases must equal tests/kvm_known_divergences.txt exactly.
# Usage: kvm_vs_ref.sh MMUCHECK SOURCE_DIR
set -u
bin=$1
src=$2
actual=$("$bin" replay --json --engines ref,kvm "$src/corpus" |
  jq -r 'select(.agree == false) | .source' | sed "s|^$src/corpus/||" | sort)
expected=$(grep -v '^#' "$src/tests/kvm_known_divergences.txt" | grep -v '^$' | cut -d'|' -f1 | sed 's/ *$//' | sort)
if [[ "$actual" == "$expected" ]]; then
  echo "kvm vs ref: $(echo "$expected" | wc -l) known divergences, no others"
  exit 0
fi
echo "kvm vs ref: the diverging set changed"
diff <(echo "$expected") <(echo "$actual") | sed 's/^</known, no longer diverges:/; s/^>/new divergence:/'
exit 1
