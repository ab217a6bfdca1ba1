/** What `npm run deploy:check` measures of the Worker's bundle, and whether it fits. */
import { gzipSync } from 'node:zlib';
import { z } from 'zod';

/** The most the bundle may weigh gzipped (Cloudflare allows 10 MB on Workers Paid, 3 MB on Free). */
export const GZIP_LIMIT_BYTES = 1024 * 1024;

export interface BundleFile {
  name: string;
  bytes: Uint8Array;
}

export interface BundleSize {
  bytes: number;
  gzipBytes: number;
}

/** Files of wrangler's `--outdir` that are uploaded: not its README nor source maps. */
export function isUploaded(name: string): boolean {
  return name !== 'README.md' && !name.endsWith('.map');
}

/** Size and gzipped size of the uploaded files, each gzipped on its own as the upload is. */
export function measure(files: readonly BundleFile[]): BundleSize {
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files.filter((f) => isUploaded(f.name))) {
    bytes += file.bytes.byteLength;
    gzipBytes += gzipSync(file.bytes).byteLength;
  }
  return { bytes, gzipBytes };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** The line the check prints, and whether the bundle is within `limit` gzipped bytes. */
export function verdict(size: BundleSize, limit = GZIP_LIMIT_BYTES): { ok: boolean; line: string } {
  const sizes = `${formatBytes(size.bytes)}, ${formatBytes(size.gzipBytes)} gzipped`;
  return size.gzipBytes <= limit
    ? { ok: true, line: `bundle: ${sizes} (limit ${formatBytes(limit)} gzipped)` }
    : {
        ok: false,
        line: `bundle: ${sizes}: over the limit of ${formatBytes(limit)} gzipped by ${formatBytes(size.gzipBytes - limit)}`,
      };
}

/** The part of esbuild's metafile (wrangler's `--metafile`) read here. */
const Metafile = z.object({
  outputs: z.record(
    z.string(),
    z.object({ inputs: z.record(z.string(), z.object({ bytesInOutput: z.number() })) }),
  ),
});

/**
 * Bytes each package (`node_modules/<name>` or `@scope/name`) or folder of the repo adds to the
 * bundle, largest first.
 */
export function bytesBySource(metafile: unknown): { source: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const [output, { inputs }] of Object.entries(Metafile.parse(metafile).outputs)) {
    if (!isUploaded(output)) continue;
    for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
      const source = sourceOf(input);
      totals.set(source, (totals.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...totals]
    .map(([source, bytes]) => ({ source, bytes }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** `…/node_modules/@smithy/core/dist-es/x.js` → `@smithy/core`; `src/app.ts` → `src/`. */
function sourceOf(input: string): string {
  const marker = 'node_modules/';
  const at = input.lastIndexOf(marker);
  if (at === -1) {
    const parts = input.split('/').filter((part) => part !== '..' && part !== '.');
    return parts.length > 1 ? `${parts[0]}/` : (parts[0] ?? input);
  }
  const parts = input.slice(at + marker.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}
