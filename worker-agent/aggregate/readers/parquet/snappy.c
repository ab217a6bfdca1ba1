// Raw Snappy block decompression, freestanding (no libc), for wasm32.
#include <stdint.h>
typedef uint64_t u64;
static inline u64 load64(const uint8_t *p) { u64 v; __builtin_memcpy(&v, p, 8); return v; }
static inline void store64(uint8_t *p, u64 v) { __builtin_memcpy(p, &v, 8); }

// Decompresses in[0, in_len) into out; out has out_cap bytes (the length plus 16 of slack for
// whole-word copies). Returns the decompressed length, or -1 when the data is corrupt.
__attribute__((export_name("snappy_decompress")))
int snappy_decompress(const uint8_t *in, int in_len, uint8_t *out, int out_cap) {
  const uint8_t *p = in, *end = in + in_len;
  uint32_t len = 0;
  for (int shift = 0;; shift += 7) {
    if (p >= end || shift > 28) return -1;
    uint8_t b = *p++;
    if (shift == 28 && b > 0x0f) return -1;  // a length of 2^32 or more
    len |= (uint32_t)(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  if ((int64_t)len + 16 > out_cap) return -1;
  uint8_t *op = out, *oend = out + len;
  while (p < end) {
    uint8_t tag = *p++;
    uint32_t kind = tag & 3;
    if (kind == 0) {
      uint32_t size = tag >> 2;
      if (size >= 60) {
        uint32_t n = size - 59;
        if ((uint32_t)(end - p) < n) return -1;
        size = 0;
        for (uint32_t i = 0; i < n; i++) size |= (uint32_t)p[i] << (8 * i);
        p += n;
      }
      size += 1;
      if (size > (uint32_t)(end - p) || size > (uint32_t)(oend - op)) return -1;
      if (size <= 16 && end - p >= 16) {
        store64(op, load64(p));
        store64(op + 8, load64(p + 8));
      } else {
        __builtin_memcpy(op, p, size);
      }
      p += size;
      op += size;
      continue;
    }
    uint32_t size, offset;
    if (kind == 1) {
      if (p >= end) return -1;
      size = ((tag >> 2) & 7) + 4;
      offset = ((uint32_t)(tag >> 5) << 8) | *p++;
    } else if (kind == 2) {
      if (end - p < 2) return -1;
      size = (tag >> 2) + 1;
      offset = p[0] | ((uint32_t)p[1] << 8);
      p += 2;
    } else {
      if (end - p < 4) return -1;
      size = (tag >> 2) + 1;
      offset = p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
      p += 4;
    }
    if (offset == 0 || offset > (uint32_t)(op - out) || size > (uint32_t)(oend - op)) return -1;
    const uint8_t *from = op - offset;
    if (offset >= 8) {
      // Eight bytes at a time: each read ends before the bytes this copy has yet to write.
      store64(op, load64(from));
      for (uint32_t i = 8; i < size; i += 8) store64(op + i, load64(from + i));
    } else {
      for (uint32_t i = 0; i < size; i++) op[i] = from[i];
    }
    op += size;
  }
  return op == oend ? (int)len : -1;
}
