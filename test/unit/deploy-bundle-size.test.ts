/** What `npm run deploy:check` measures of the Worker's bundle, and when it fails. */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  GZIP_LIMIT_BYTES,
  bytesBySource,
  formatBytes,
  measure,
  verdict,
} from '../../cli/deploy/bundle-size.ts';

const file = (name: string, bytes: Uint8Array) => ({ name, bytes });

describe('measure', () => {
  it('adds up the uploaded files, each gzipped on its own, and leaves out source maps and the README', () => {
    const code = Buffer.from(
      'export default { fetch() { return new Response("ok"); } };\n'.repeat(50),
    );
    const wasm = randomBytes(3000);
    const size = measure([
      file('index.js', code),
      file('kernel.wasm', wasm),
      file('index.js.map', randomBytes(5000)),
      file('README.md', Buffer.from('built output')),
    ]);
    expect(size.bytes).toBe(code.byteLength + wasm.byteLength);
    expect(size.gzipBytes).toBe(gzipSync(code).byteLength + gzipSync(wasm).byteLength);
  });

  it('counts repetitive code at its compressed size and random bytes at about their own', () => {
    const zeros = measure([file('index.js', new Uint8Array(2 * 1024 * 1024))]);
    expect(zeros.bytes).toBe(2 * 1024 * 1024);
    expect(zeros.gzipBytes).toBeLessThan(10_000);
    const noise = measure([file('index.js', randomBytes(100_000))]);
    expect(noise.gzipBytes).toBeGreaterThan(100_000);
  });
});

describe('verdict', () => {
  it('passes up to the limit gzipped, whatever the size before gzip', () => {
    const atLimit = verdict({ bytes: 5 * 1024 * 1024, gzipBytes: GZIP_LIMIT_BYTES });
    expect(atLimit.ok).toBe(true);
    expect(atLimit.line).toBe('bundle: 5.00 MiB, 1.00 MiB gzipped (limit 1.00 MiB gzipped)');
  });

  it('fails one byte past it, saying by how much', () => {
    const over = verdict({ bytes: 3 * 1024 * 1024, gzipBytes: GZIP_LIMIT_BYTES + 2048 });
    expect(over.ok).toBe(false);
    expect(over.line).toBe(
      'bundle: 3.00 MiB, 1.00 MiB gzipped: over the limit of 1.00 MiB gzipped by 2.0 KiB',
    );
    expect(verdict({ bytes: 10, gzipBytes: 11 }, 10).ok).toBe(false);
  });

  it('writes sizes in B, KiB and MiB', () => {
    expect([formatBytes(1023), formatBytes(1536), formatBytes(3 * 1024 * 1024)]).toEqual([
      '1023 B',
      '1.5 KiB',
      '3.00 MiB',
    ]);
  });
});

describe('bytesBySource', () => {
  it("sums each package's and each repo folder's bytes in the bundle, largest first, maps left out", () => {
    const metafile = {
      inputs: {},
      outputs: {
        '../../tmp/out/index.js': {
          bytes: 999,
          inputs: {
            '../main/node_modules/@aws-sdk/client-s3/dist-es/a.js': { bytesInOutput: 100 },
            '../main/node_modules/@aws-sdk/client-s3/dist-es/b.js': { bytesInOutput: 50 },
            'node_modules/zod/v4/core/x.js': { bytesInOutput: 400 },
            'node_modules/a/node_modules/tslib/tslib.es6.mjs': { bytesInOutput: 7 },
            'src/index.ts': { bytesInOutput: 30 },
            'src/routes/jobs.ts': { bytesInOutput: 20 },
            'durable-objects/scheduler.ts': { bytesInOutput: 60 },
          },
        },
        '../../tmp/out/index.js.map': {
          bytes: 5,
          inputs: { 'src/index.ts': { bytesInOutput: 1000 } },
        },
      },
    };
    expect(bytesBySource(metafile)).toEqual([
      { source: 'zod', bytes: 400 },
      { source: '@aws-sdk/client-s3', bytes: 150 },
      { source: 'durable-objects/', bytes: 60 },
      { source: 'src/', bytes: 50 },
      { source: 'tslib', bytes: 7 },
    ]);
  });

  it('refuses a metafile of another shape', () => {
    expect(() => bytesBySource({ outputs: { 'index.js': { inputs: { a: {} } } } })).toThrow();
  });
});
