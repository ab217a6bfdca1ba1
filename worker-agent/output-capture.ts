/** Keeps the first bytes of a stream of text, cut on a character boundary, and says whether it cut. */

export class OutputCapture {
  private kept = '';
  private bytes = 0;
  private cut = false;

  constructor(private readonly maxBytes: number) {}

  write(text: string): void {
    if (this.cut || text === '') return;
    const size = Buffer.byteLength(text, 'utf8');
    if (this.bytes + size <= this.maxBytes) {
      this.kept += text;
      this.bytes += size;
      return;
    }
    this.kept += prefixWithin(text, this.maxBytes - this.bytes);
    this.bytes = Buffer.byteLength(this.kept, 'utf8');
    this.cut = true;
  }

  get text(): string {
    return this.kept;
  }

  get truncated(): boolean {
    return this.cut;
  }
}

/** The longest prefix of `text` that is at most `maxBytes` of UTF-8 and splits no character. */
function prefixWithin(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  let end = Math.max(0, maxBytes);
  // Continuation bytes (10xxxxxx) belong to the character before them.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
