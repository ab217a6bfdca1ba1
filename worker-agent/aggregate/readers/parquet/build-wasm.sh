#!/usr/bin/env bash
# Builds each C kernel here (snappy.c, dictionary-page.c) into its .wasm beside it, or into the
# folder given, with clang and lld's wasm32 target (Debian's `clang lld`). The built files are
# committed, so agents need no compiler; CI rebuilds them and checks they match.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here}"
mkdir -p "$out"
for source in "$here"/*.c; do
  wasm="$out/$(basename "$source" .c).wasm"
  clang --target=wasm32 -O3 -nostdlib -mbulk-memory -msimd128 \
    -Wl,--no-entry -Wl,--export=__heap_base -o "$wasm" "$source"
  chmod -x "$wasm" # wasm-ld marks its output executable; it is data
done
