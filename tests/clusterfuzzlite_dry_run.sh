#!/usr/bin/env bash
# Dry run of .clusterfuzzlite/build.sh on this machine (no Docker engine):
# OSS-Fuzz's environment for an ASan libFuzzer build with clang-14 (without
# -stdlib=libc++, which Debian's libFuzzer runtime does not link with), then
# each target in $OUT is checked (seed corpus, dictionary, options present)
# and run for SECONDS from its seed corpus, the way the runner does: in $OUT
# with the flags of its .options file. Run by ci/fuzz-smoke.
#
#   tests/clusterfuzzlite_dry_run.sh [WORK_DIR (build/cfl-dry-run)] [SECONDS (5)]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=$(realpath -m "${1:-$root/build/cfl-dry-run}")
secs=${2:-5}
export SRC=$base/src WORK=$base/work OUT=$base/out
export CC=clang-14 CXX=clang++-14
export SANITIZER=address FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"  # OSS-Fuzz adds -stdlib=libc++ here
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export MMUCHECK_SRC=$root
rm -rf "$OUT" "$base/run"
mkdir -p "$SRC" "$WORK" "$OUT"
if ! bash -eu "$root/.clusterfuzzlite/build.sh"; then
  echo "FAIL: build.sh"
  exit 1
fi

fail=0 n=0
for o in "$root"/fuzz/fuzz_*.options; do
  t=$(basename "$o" .options)
  n=$((n + 1))
  for f in "$t" "${t}_seed_corpus.zip" "$t.dict" "$t.options"; do
    [[ -s "$OUT/$f" ]] || { echo "FAIL: $t: \$OUT/$f missing"; fail=1; }
  done
  [[ -x "$OUT/$t" ]] || continue
  # Every shared library outside the runner image's base set is in $OUT/lib,
  # found through RUNPATH $ORIGIN/lib.
  for lib in $(readelf -d "$OUT/$t" | awk -F'[][]' '/NEEDED/ {print $2}'); do
    case $lib in libc.so.* | libm.so.* | libstdc++.so.* | libgcc_s.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux*) ;;
      *) [[ -e "$OUT/lib/$lib" ]] || { echo "FAIL: $t needs $lib, not in \$OUT/lib"; fail=1; } ;;
    esac
  done
  readelf -d "$OUT/$t" | grep -q 'RUNPATH.*\$ORIGIN/lib' || { echo "FAIL: $t: RUNPATH lacks \$ORIGIN/lib"; fail=1; }
  run=$base/run/$t
  mkdir -p "$run/seeds" "$run/corpus"
  unzip -q "$OUT/${t}_seed_corpus.zip" -d "$run/seeds"
  flags=$(awk '/^\[/ { s = ($0 == "[libfuzzer]") } s && /=/ { gsub(/[ \t]/, ""); split($0, kv, "="); printf "-%s=%s ", kv[1], kv[2] }' "$OUT/$t.options")
  # shellcheck disable=SC2086
  (cd "$OUT" && MMUCHECK_DIVERGENCE_DIR=$run/divergences ./"$t" $flags -max_total_time="$secs" -print_final_stats=1 \
     -artifact_prefix="$run/" "$run/corpus" "$run/seeds") >"$run/log" 2>&1
  status=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$run/log")
  if grep -q "SKIPPED:" "$run/log"; then
    echo "ok: $t skipped: $(grep -o 'SKIPPED:.*' "$run/log" | head -1)"
  elif [[ $status -eq 0 && -n "$runs" && "$runs" -gt 0 ]]; then
    echo "ok: $t ran $runs inputs in $secs s from $(ls "$run/seeds" | wc -l) seeds"
  else
    echo "FAIL: $t (exit $status, ${runs:-0} runs); log $run/log"
    tail -n 20 "$run/log"
    fail=1
  fi
done
[[ $n -gt 0 ]] || { echo "FAIL: no targets"; fail=1; }
exit $fail
