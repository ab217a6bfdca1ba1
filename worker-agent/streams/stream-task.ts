/**
 * Joins a stream task's process to the data plane: its stdin to its upstreams (Inbox), its stdout
 * to its downstreams (Router), its fd 3 to barriers and its result (Control). Any failure of these
 * stops the task through `fail`.
 */
import type { ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { StreamPlan, TaskRef } from '../../protocol/index.ts';
import type { JsonResult } from '../task-outcome.ts';
import { Control } from './control.ts';
import type { StreamHub } from './hub.ts';
import { Inbox } from './inbox.ts';
import { Router } from './router.ts';

export interface StreamIo {
  /** The records went to peers: stdout is not the task's log. */
  stdoutTaken: boolean;
  /** After the process exited well: every downstream gets its end marker. */
  finish(): Promise<void>;
  close(): void;
  result(): JsonResult | undefined;
}

export function joinStream(
  hub: StreamHub,
  plan: StreamPlan,
  task: TaskRef & { from: string },
  child: ChildProcess,
  fail: (message: string) => void,
): StreamIo {
  const [stdin, stdout, , fd3] = child.stdio;
  if (!stdin || !stdout || !isDuplex(fd3))
    throw new Error('a stream task needs stdin, stdout and fd 3 as pipes');
  const inbox = new Inbox(plan.epoch, plan.secret, plan.inputs, stdin, fail);
  const unregister = hub.server.register(task.taskId, inbox);
  const control = new Control(fd3, { barrier: (name) => hub.barrier(task, name), fail });
  const router =
    plan.outputs.length > 0
      ? Router.start(plan, task.from, stdout, fail).catch((error: Error) => {
          fail(`cannot reach a downstream instance: ${error.message}`);
          return null;
        })
      : null;
  return {
    stdoutTaken: router !== null,
    finish: async () => (await router)?.finish(),
    close: () => {
      unregister();
      inbox.close();
      control.close();
      hub.forget(task);
      void router?.then((r) => r?.close());
    },
    result: () => control.result,
  };
}

const isDuplex = (stream: unknown): stream is Duplex => stream instanceof Duplex;
