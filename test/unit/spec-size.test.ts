/** The frame budget at submit: specs measured as re-encoded, refused over MAX_SPEC_BYTES. */
import { describe, expect, it } from 'vitest';
import { MAX_SPEC_BYTES } from '../../protocol/index.ts';
import { draftSimpleJob, type JobDraft } from '../../durable-objects/job-plan.ts';
import { checkSpecSize } from '../../durable-objects/spec-size.ts';
import { SchedulerError } from '../../durable-objects/failure.ts';

const ID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';

function refusal(draft: JobDraft): SchedulerError | null {
  try {
    checkSpecSize(draft);
    return null;
  } catch (error) {
    if (error instanceof SchedulerError) return error;
    throw error;
  }
}

/** A body of `count` copies of 9e15: 5 bytes each as sent, 17 each once written back out. */
const expanding = (count: number): unknown =>
  JSON.parse(`[${Array.from({ length: count }, () => '9e15').join(',')}]`);

describe('checkSpecSize', () => {
  it('refuses an echo whose numbers grow past the budget when re-encoded', () => {
    const count = Math.ceil(MAX_SPEC_BYTES / 17) + 10;
    const body = JSON.stringify({ kind: 'echo', payload: '__' }).replace(
      '"__"',
      `[${Array.from({ length: count }, () => '9e15').join(',')}]`,
    );
    expect(body.length).toBeLessThan(MAX_SPEC_BYTES / 2);
    const draft = draftSimpleJob(ID, { kind: 'echo', payload: expanding(count) as never }, []);
    const error = refusal(draft);
    expect(error?.failure).toMatchObject({
      status: 400,
      code: 'spec_too_large',
      details: { limit: MAX_SPEC_BYTES },
    });
    expect(error?.message).toContain(String(MAX_SPEC_BYTES));
    expect((error?.failure.details as { bytes: number }).bytes).toBeGreaterThan(count * 16);
  });

  it('accepts a spec just under the budget, and counts multi-byte characters as bytes', () => {
    const fits = draftSimpleJob(ID, { kind: 'echo', payload: 'x'.repeat(MAX_SPEC_BYTES - 100) }, [
      { pinnedWorkerId: null },
    ]);
    expect(refusal(fits)).toBeNull();
    const wide = draftSimpleJob(ID, { kind: 'echo', payload: 'é'.repeat(MAX_SPEC_BYTES / 2) }, []);
    expect(refusal(wide)?.failure.code).toBe('spec_too_large');
  });

  it("counts a command's env and argv as they are framed", () => {
    const env = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`V${i}`, 'v'.repeat(60 * 1024)]),
    );
    const draft = draftSimpleJob(ID, { kind: 'command', command: ['true'], env }, []);
    expect(refusal(draft)?.failure.code).toBe('spec_too_large');
  });

  it("adds a task's own part to the job's spec (an aggregate split, pipeline data)", () => {
    const draft: JobDraft = {
      ...draftSimpleJob(ID, { kind: 'echo' }, []),
      kind: 'aggregate',
      spec: { query: 'q'.repeat(MAX_SPEC_BYTES / 2) },
      tasks: [{ pinnedWorkerId: null, spec: { input: 'i'.repeat(MAX_SPEC_BYTES / 2) } }],
    };
    expect(refusal(draft)?.failure.code).toBe('spec_too_large');
    expect(
      refusal({ ...draft, tasks: [{ pinnedWorkerId: null, spec: { input: 'i' } }] }),
    ).toBeNull();
  });
});
