#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: configures mmucheck with OSS-Fuzz's
# $CC $CXX $CFLAGS $CXXFLAGS and links each fuzz target with
# $LIB_FUZZING_ENGINE, then puts into $OUT, for every target with a
# fuzz/NAME.options: NAME, NAME_seed_corpus.zip (corpus/**/*.json, encoded
# for the input format; as they are for fuzz_case_json), NAME.dict and
# NAME.options; and lib/ with the shared libraries the targets need that the
# runner image lacks (libz3; libfmt when the system's is used), found through
# the targets' RUNPATH $ORIGIN/lib.
# Build trees go to $WORK. A local dry run without Docker:
# tests/clusterfuzzlite_dry_run.sh.
src=${MMUCHECK_SRC:-$SRC/mmucheck}
build=$WORK/mmucheck-build
jobs=$(nproc)

# Libraries built from source with the fuzzing flags when the image cloned
# them (.clusterfuzzlite/Dockerfile); otherwise the system's.
prefix=$WORK/deps
if [[ -d $SRC/fmt ]]; then
  for dep in nlohmann_json fmt CLI11; do
    cmake -S "$SRC/$dep" -B "$WORK/deps-build/$dep" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DJSON_BuildTests=OFF -DFMT_TEST=OFF -DFMT_DOC=OFF \
      -DCLI11_BUILD_TESTS=OFF -DCLI11_BUILD_EXAMPLES=OFF -DCLI11_BUILD_DOCS=OFF
    cmake --build "$WORK/deps-build/$dep" -j "$jobs" --target install
  done
fi

cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_RPATH='$ORIGIN/lib' \
  -DMMUCHECK_FUZZ_ENGINE=ossfuzz -DMMUCHECK_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DMMUCHECK_TESTS=OFF -DMMUCHECK_BENCH=OFF

targets=()
for o in "$src"/fuzz/fuzz_*.options; do targets+=("$(basename "$o" .options)"); done
cmake --build "$build" -j "$jobs" --target "${targets[@]}" fuzz_seeds

mkdir -p "$OUT/lib"
for t in "${targets[@]}"; do
  cp "$build/fuzz/$t" "$src/fuzz/$t.dict" "$src/fuzz/$t.options" "$OUT/"
  seeds=$WORK/seeds/$t
  rm -rf "$seeds"
  if [[ $t == fuzz_case_json ]]; then
    "$build/fuzz/fuzz_seeds" --json "$seeds" "$src/corpus"
  else
    "$build/fuzz/fuzz_seeds" "$seeds" "$src/corpus"
  fi
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$seeds" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  # Shared libraries the runner image does not have: Z3 (its C ABI), and fmt
  # where the system's is used (the Docker image links a static one).
  ldd "$OUT/$t" | awk '/libz3|libfmt/ {print $3}' | while read -r lib; do
    [[ $lib == "$OUT/lib/"* ]] || cp -L "$lib" "$OUT/lib/"  # already there: found through the RUNPATH
  done
done
