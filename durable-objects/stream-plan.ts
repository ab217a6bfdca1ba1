/**
 * A stream task's plan, built when its group is placed: how many upstream instances it reads, and
 * for each downstream stage, the task and data address of each of its instances. Pure: the rows
 * come from db/dataflow-gangs.ts.
 */
import { stageInstances, type StreamPlan } from '../protocol/index.ts';
import type { DataflowJobSpec } from './dataflow-spec.ts';

export interface PeerRow {
  id: string;
  address: string;
  data_port: number | null;
}

/** The host part of a worker address (`host:port` or `[v6]:port`). */
const hostOf = (address: string) => address.slice(0, address.lastIndexOf(':'));

/**
 * The plan of an instance of stage `s`, given each stage's instances in order (`peersOf`); null
 * when a downstream instance has no data address (its agent does not take records).
 */
export function streamPlan(
  spec: DataflowJobSpec,
  s: number,
  gang: { epoch: number; secret: string },
  peersOf: (stage: number) => PeerRow[],
): StreamPlan | null {
  const name = spec.stages[s]!.name;
  const index = new Map(spec.stages.map((stage, i) => [stage.name, i]));
  const inputs = (spec.stages[s]!.streamFrom ?? []).reduce(
    (sum, upstream) => sum + stageInstances(spec.stages[index.get(upstream)!]!),
    0,
  );
  const outputs: StreamPlan['outputs'] = [];
  for (const [d, stage] of spec.stages.entries()) {
    if (!(stage.streamFrom ?? []).includes(name)) continue;
    const peers = peersOf(d);
    if (peers.some((peer) => peer.data_port === null)) return null;
    outputs.push({
      stage: stage.name,
      ...(stage.key ? { key: stage.key } : {}),
      peers: peers.map((peer) => ({
        taskId: peer.id,
        address: `${hostOf(peer.address)}:${peer.data_port}`,
      })),
    });
  }
  return { epoch: gang.epoch, secret: gang.secret, inputs, outputs };
}
