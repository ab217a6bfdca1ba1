/** The number of set bits in each byte value, for counting 1s a byte at a time. */
export const BYTE_ONES = Uint8Array.from({ length: 256 }, (_, byte) => {
  let ones = 0;
  for (let b = byte; b > 0; b >>= 1) ones += b & 1;
  return ones;
});
