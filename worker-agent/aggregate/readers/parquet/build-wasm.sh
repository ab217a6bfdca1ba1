#!/usr/bin/env bash
# Builds snappy.wasm from snappy.c (clang and lld with the wasm32 target: Debian's `clang lld`).
# The built file is committed, so agents need no compiler; CI rebuilds it and checks the two match.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/snappy.wasm}"
mkdir -p "$(dirname "$out")"
clang --target=wasm32 -O3 -nostdlib -mbulk-memory -msimd128 \
  -Wl,--no-entry -Wl,--export=__heap_base -o "$out" "$here/snappy.c"
chmod -x "$out"  # wasm-ld marks its output executable; it is data
