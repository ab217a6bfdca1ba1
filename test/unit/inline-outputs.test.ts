/** Inline step outputs: deflated within the task's allowance, restored byte for byte. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InlineBudget, inlineBytes } from '../../worker-agent/executors/inline-outputs.ts';

describe('InlineBudget', () => {
  it('takes outputs that fit deflated, restores them exactly, and refuses once spent', () => {
    const budget = new InlineBudget(4096);
    const repetitive = new TextEncoder().encode('north,2026-01-01,17,1234.5\n'.repeat(2000));
    const held = budget.take(repetitive);
    expect(held).not.toBeNull();
    expect(inlineBytes(held!)).toEqual(repetitive);
    // What is left is less than an incompressible output of 4 KiB needs.
    expect(budget.take(randomBytes(4096))).toBeNull();
    expect(budget.take(new Uint8Array(10))).not.toBeNull();
  });

  it('gives nothing without an allowance', () => {
    expect(new InlineBudget(0).take(new Uint8Array(1))).toBeNull();
  });
});
