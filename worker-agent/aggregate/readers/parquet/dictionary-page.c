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

// `groups` groups of 8 values of W bits, each group W bytes: with W a constant, every offset,
// shift and mask is one too, so the compiler unrolls the group into straight-line code.
#define UNPACK_GROUPS(W)                                                                       \
  static void unpack_groups_##W(const uint8_t *p, u32 groups, u32 *out) {                     \
    for (u32 g = 0; g < groups; g++, p += W, out += 8)                                          \
      for (u32 j = 0; j < 8; j++)                                                               \
        out[j] = (u32)((load64(p + (j * W >> 3)) >> (j * W & 7)) & ((1ull << W) - 1));          \
  }
UNPACK_GROUPS(1) UNPACK_GROUPS(2) UNPACK_GROUPS(3) UNPACK_GROUPS(4) UNPACK_GROUPS(5) UNPACK_GROUPS(6)
UNPACK_GROUPS(7) UNPACK_GROUPS(8) UNPACK_GROUPS(9) UNPACK_GROUPS(10) UNPACK_GROUPS(11) UNPACK_GROUPS(12)
UNPACK_GROUPS(13) UNPACK_GROUPS(14) UNPACK_GROUPS(15) UNPACK_GROUPS(16) UNPACK_GROUPS(17) UNPACK_GROUPS(18)
UNPACK_GROUPS(19) UNPACK_GROUPS(20) UNPACK_GROUPS(21) UNPACK_GROUPS(22) UNPACK_GROUPS(23) UNPACK_GROUPS(24)
UNPACK_GROUPS(25) UNPACK_GROUPS(26) UNPACK_GROUPS(27) UNPACK_GROUPS(28) UNPACK_GROUPS(29) UNPACK_GROUPS(30)
UNPACK_GROUPS(31) UNPACK_GROUPS(32)

typedef void (*unpack_groups_fn)(const uint8_t *, u32, u32 *);
static const unpack_groups_fn unpack_groups[33] = {
  0, unpack_groups_1, unpack_groups_2, unpack_groups_3, unpack_groups_4, unpack_groups_5,
  unpack_groups_6, unpack_groups_7, unpack_groups_8, unpack_groups_9, unpack_groups_10,
  unpack_groups_11, unpack_groups_12, unpack_groups_13, unpack_groups_14, unpack_groups_15,
  unpack_groups_16, unpack_groups_17, unpack_groups_18, unpack_groups_19, unpack_groups_20,
  unpack_groups_21, unpack_groups_22, unpack_groups_23, unpack_groups_24, unpack_groups_25,
  unpack_groups_26, unpack_groups_27, unpack_groups_28, unpack_groups_29, unpack_groups_30,
  unpack_groups_31, unpack_groups_32,
};

// One run of the hybrid encoding: `rle`, its `value` repeated `length` times, or bit-packed, its
// `length` values (a multiple of 8) at the position next_run leaves.
typedef struct {
  int rle;
  u64 length;
  u32 value;
} run_t;

// Reads the run header at in[*pos] (and an RLE run's value), moving *pos past them; 0, or -1
// when the run is corrupt.
static int next_run(const uint8_t *in, u32 len, u32 w, u32 *pos, run_t *run) {
  u64 header = 0;
  for (u32 shift = 0;; shift += 7) {
    if (*pos >= len || shift > 28) return -1;
    uint8_t b = in[(*pos)++];
    header |= (u64)(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  run->rle = (header & 1) == 0;
  run->length = run->rle ? header >> 1 : (header >> 1) * 8;
  if (run->length == 0) return -1;
  if (!run->rle) return 0;
  u32 bytes = (w + 7) >> 3;
  if (*pos + bytes > len) return -1;
  u32 value = 0;
  for (u32 i = 0; i < bytes; i++) value |= (u32)in[*pos + i] << (8 * i);
  if (w < 32 && (value >> w) != 0) return -1;
  *pos += bytes;
  run->value = value;
  return 0;
}

// Moves *pos past a bit-packed run of `length` values; a cut-short last run ends at len.
static void skip_packed(u32 len, u32 w, u64 length, u32 *pos) {
  u64 next = *pos + (length / 8) * w;
  *pos = next < len ? (u32)next : len;
}

// Indices are decoded and gathered a chunk at a time: a page without NULLs never holds all its
// indices in memory (a 1M-row page's 4 MB written, then read back, for nothing).
#define CHUNK 1024

// Where decoded indices go: `out` gets them from `at` on, as `width`-byte entries of
// `dictionary` (`size` of them), or as the indices themselves when `width` is 0 (still checked
// against `size`).
typedef struct {
  const void *dictionary;
  u32 size, width, at;
  void *out;
} sink;

// `n` copies of entry `index`; -1 when it is past the dictionary.
static int fill(sink *s, u32 index, u32 n) {
  if (index >= s->size) return -1;
  if (s->width == 0) for (u32 i = 0; i < n; i++) ((u32 *)s->out)[s->at + i] = index;
  else if (s->width == 4) {
    u32 v = ((const u32 *)s->dictionary)[index];
    for (u32 i = 0; i < n; i++) ((u32 *)s->out)[s->at + i] = v;
  } else {
    u64 v = ((const u64 *)s->dictionary)[index];
    for (u32 i = 0; i < n; i++) ((u64 *)s->out)[s->at + i] = v;
  }
  s->at += n;
  return 0;
}

// The entries of the `n` indices in `idx`; -1 when one is past the dictionary.
static int gather(sink *s, const u32 *idx, u32 n) {
  u32 largest = 0;
  for (u32 i = 0; i < n; i++) largest = idx[i] > largest ? idx[i] : largest;
  if (n > 0 && largest >= s->size) return -1;
  if (s->width == 0) __builtin_memcpy((u32 *)s->out + s->at, idx, n * 4);
  else if (s->width == 4) {
    const u32 *d = s->dictionary;
    u32 *o = (u32 *)s->out + s->at;
    for (u32 i = 0; i < n; i++) o[i] = d[idx[i]];
  } else {
    const u64 *d = s->dictionary;
    u64 *o = (u64 *)s->out + s->at;
    for (u32 i = 0; i < n; i++) o[i] = d[idx[i]];
  }
  s->at += n;
  return 0;
}

// Decodes `count` indices of `w` bits from in[0, len) (8 readable bytes past len) into `s`, each
// run (or CHUNK of a bit-packed one) as it comes, through `buf` (room for min(count, CHUNK)
// indices); 0, or -1 when the runs are corrupt or an index is past the dictionary.
static int decode_runs(const uint8_t *in, u32 len, u32 w, u32 count, sink *s, u32 *buf) {
  if (w > 32) return -1;
  u32 pos = 0, filled = 0;
  while (filled < count) {
    run_t run;
    if (next_run(in, len, w, &pos, &run) < 0) return -1;
    u32 remaining = count - filled;
    u32 take = run.length < remaining ? (u32)run.length : remaining;
    if (run.rle) {
      if (fill(s, run.value, take) < 0) return -1;
    } else {
      // Writers may cut the last run short after its final value.
      if (pos + (((u64)take * w + 7) >> 3) > len) return -1;
      if (w == 0) {
        if (fill(s, 0, take) < 0) return -1;
      } else {
        for (u32 done = 0; done < take; done += CHUNK) {
          u32 n = take - done < CHUNK ? take - done : CHUNK;
          const uint8_t *p = in + pos + (done / 8) * w;
          u32 whole = n / 8;
          unpack_groups[w](p, whole, buf);
          unpack(p + whole * w, w, n - whole * 8, buf + whole * 8);
          if (gather(s, buf, n) < 0) return -1;
        }
      }
      skip_packed(len, w, run.length, &pos);
    }
    filled += take;
  }
  return 0;
}

// Every row's value as a T, `VALUE(i)` being the page's i-th non-NULL one; NULL rows get 0,
// without a branch (`idx[values]` is 0, for the NULL rows after the last value).
#define PLACE(T, VALUE)                                                                        \
  do {                                                                                         \
    T *o = out;                                                                                \
    if (!valid) {                                                                              \
      for (u32 r = 0; r < rows; r++) o[r] = VALUE(r);                                          \
    } else {                                                                                   \
      for (u32 r = 0, j = 0; r < rows; r++) {                                                  \
        T v = valid[r];                                                                        \
        o[r] = VALUE(j) & -v;                                                                  \
        j += (u32)v;                                                                           \
      }                                                                                        \
    }                                                                                          \
  } while (0)
#define CODE(i) idx[i]
#define ENTRY32(i) ((const u32 *)dictionary)[idx[i]]
#define ENTRY64(i) ((const u64 *)dictionary)[idx[i]]

// The page's values: data[0, len) is its bit width then its runs (8 readable bytes past len);
// `values` indices for `rows` rows, `valid` one byte a row (0 for NULL) or null when none is.
// `width` 0 writes the indices, 4 or 8 the dictionary's entries of that many bytes. `idx` has
// room for values + 1 indices, `out` for `rows` values. Returns 0, or -1 when the page is corrupt
// or an index is past the `size` entries of the dictionary.
__attribute__((export_name("dictionary_page")))
int dictionary_page(const uint8_t *data, u32 len, u32 values, const uint8_t *valid, u32 rows,
                    const void *dictionary, u32 size, u32 width, u32 *idx, void *out) {
  if (len == 0 || (width != 0 && width != 4 && width != 8)) return -1;
  if (!valid) {
    if (values != rows) return -1;
    sink s = {dictionary, size, width, 0, out};
    return decode_runs(data + 1, len - 1, data[0], values, &s, idx);
  }
  // With NULLs, the indices first (`out` their scratch until it gets the rows), then every row.
  sink s = {dictionary, size, 0, 0, idx};
  if (decode_runs(data + 1, len - 1, data[0], values, &s, out) < 0) return -1;
  idx[values] = 0;
  if (width == 0) PLACE(u32, CODE);
  else if (width == 4) PLACE(u32, ENTRY32);
  else PLACE(u64, ENTRY64);
  return 0;
}
