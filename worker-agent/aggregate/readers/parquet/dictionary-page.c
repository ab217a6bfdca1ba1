// A dictionary-encoded Parquet data page to row-aligned values, freestanding (no libc), for
// wasm32: the RLE / bit-packed hybrid indices are decoded, checked against the dictionary, then
// gathered (or kept as codes) with NULL rows set to 0. Any fault returns -1; the TypeScript reader
// then decodes the page itself and says what is wrong with it.
#include <stdint.h>
typedef uint64_t u64;
typedef uint32_t u32;
static inline u64 load64(const uint8_t *p) { u64 v; __builtin_memcpy(&v, p, 8); return v; }

// `count` values of `w` bits (1..32) from `p`, which has 8 readable bytes past its last value.
static void unpack(const uint8_t *p, u32 w, u32 count, u32 *out) {
  const u64 mask = (1ull << w) - 1;
  u64 bit = 0;
  for (u32 i = 0; i < count; i++, bit += w) out[i] = (u32)((load64(p + (bit >> 3)) >> (bit & 7)) & mask);
}

// Decodes `count` indices of `w` bits from in[0, len) (8 readable bytes past len) into idx;
// returns the largest, or -1 when the runs are corrupt.
static int64_t decode_indices(const uint8_t *in, u32 len, u32 w, u32 count, u32 *idx) {
  if (w > 32) return -1;
  u32 pos = 0, filled = 0, largest = 0;
  while (filled < count) {
    u64 header = 0;
    for (u32 shift = 0;; shift += 7) {
      if (pos >= len || shift > 28) return -1;
      uint8_t b = in[pos++];
      header |= (u64)(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    u32 remaining = count - filled;
    if ((header & 1) == 0) {
      u64 run = header >> 1;
      u32 bytes = (w + 7) >> 3;
      if (run == 0 || pos + bytes > len) return -1;
      u32 value = 0;
      for (u32 i = 0; i < bytes; i++) value |= (u32)in[pos + i] << (8 * i);
      if (w < 32 && (value >> w) != 0) return -1;
      pos += bytes;
      u32 take = run < remaining ? (u32)run : remaining;
      for (u32 i = 0; i < take; i++) idx[filled + i] = value;
      if (take > 0 && value > largest) largest = value;
      filled += take;
    } else {
      u64 values = (header >> 1) * 8;
      if (values == 0) return -1;
      u32 take = values < remaining ? (u32)values : remaining;
      // Writers may cut the last run short after its final value.
      if (pos + (((u64)take * w + 7) >> 3) > len) return -1;
      if (w == 0) {
        for (u32 i = 0; i < take; i++) idx[filled + i] = 0;
      } else {
        unpack(in + pos, w, take, idx + filled);
        for (u32 i = 0; i < take; i++) largest = idx[filled + i] > largest ? idx[filled + i] : largest;
      }
      u64 next = pos + (values / 8) * w;
      pos = next < len ? (u32)next : len;
      filled += take;
    }
  }
  return largest;
}

// The page's values: data[0, len) is its bit width then its runs (8 readable bytes past len);
// `values` indices for `rows` rows, `valid` one byte a row (0 for NULL) or null when none is.
// `width` 0 writes the indices, 4 or 8 the dictionary's entries of that many bytes. `idx` has
// room for values + 1 indices. Returns 0, or -1 when the page is corrupt or an index is past the
// `size` entries of the dictionary.
__attribute__((export_name("dictionary_page")))
int dictionary_page(const uint8_t *data, u32 len, u32 values, const uint8_t *valid, u32 rows,
                    const void *dictionary, u32 size, u32 width, u32 *idx, void *out) {
  if (len == 0) return -1;
  int64_t largest = decode_indices(data + 1, len - 1, data[0], values, idx);
  if (largest < 0 || (u64)largest >= size) return -1;
  idx[values] = 0;
  if (width == 0) {
    u32 *o = out;
    if (!valid) {
      for (u32 r = 0; r < rows; r++) o[r] = idx[r];
      return 0;
    }
    for (u32 r = 0, j = 0; r < rows; r++) {
      u32 v = valid[r];
      o[r] = idx[j] & -v;
      j += v;
    }
  } else if (width == 4) {
    const u32 *d = dictionary;
    u32 *o = out;
    if (!valid) {
      for (u32 r = 0; r < rows; r++) o[r] = d[idx[r]];
      return 0;
    }
    for (u32 r = 0, j = 0; r < rows; r++) {
      u32 v = valid[r];
      o[r] = d[idx[j]] & -v;
      j += v;
    }
  } else if (width == 8) {
    const u64 *d = dictionary;
    u64 *o = out;
    if (!valid) {
      for (u32 r = 0; r < rows; r++) o[r] = d[idx[r]];
      return 0;
    }
    for (u32 r = 0, j = 0; r < rows; r++) {
      u64 v = valid[r];
      o[r] = d[idx[j]] & -v;
      j += (u32)v;
    }
  } else {
    return -1;
  }
  return 0;
}
