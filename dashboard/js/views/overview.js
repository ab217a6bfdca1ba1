// @ts-check
/** The overview: queue, throughput chart, running jobs and (for the admin) workers, live. */
import { h, section, table, pill, bar, link, bytes } from '../dom.js';
import { throughputChart } from '../chart.js';
import { onOverview } from '../live.js';

/** @typedef {import('../../../protocol/overview.ts').Overview} Overview */
/** @typedef {import('../../../protocol/jobs.ts').JobView} JobView */
/** @typedef {import('../../../protocol/workers.ts').WorkerView} WorkerView */

/** @param {WorkerView} w */
function health(w) {
  if (!w.connected) return 'disconnected';
  if (w.lastHeartbeatAgeMs === null) return 'no heartbeat yet';
  return `heartbeat ${(w.lastHeartbeatAgeMs / 1000).toFixed(0)} s ago`;
}

/** @param {WorkerView[]} workers */
const workersTable = (workers) =>
  table(
    ['Address', 'State', 'Health', 'Slots in use', 'Labels', 'Executors'],
    workers.map((w) => [
      w.address,
      pill(w.state),
      health(w),
      `${w.runningTasks} / ${w.slots}`,
      Object.entries(w.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '–',
      w.executors.join(', ') || '–',
    ]),
    'No workers yet: start an agent (tm-agent) to join this cluster.',
  );

/** A running job's progress: an aggregation's phase and rows, else its tasks done. @param {JobView} job */
function progress(job) {
  const total =
    job.counts.queued +
    job.counts.running +
    job.counts.succeeded +
    job.counts.failed +
    job.counts.cancelled;
  if (job.progress) {
    const p = job.progress;
    return h(
      'span',
      {},
      bar(p.tasksDone, p.tasksTotal),
      ` ${p.phase} · ${p.rowsRead.toLocaleString()} rows · ${bytes(p.bytesRead)}`,
    );
  }
  const done = job.counts.succeeded + job.counts.failed + job.counts.cancelled;
  return h('span', {}, bar(done, total), ` ${done}/${total} tasks`);
}

/** @param {Overview} o */
function render(o) {
  const window = o.throughput;
  const sum = (/** @type {'succeeded' | 'failed'} */ key) =>
    window.buckets.reduce((n, b) => n + b[key], 0);
  const rate = sum('succeeded') / window.windowSeconds;
  return [
    h(
      'div',
      { class: 'cards' },
      h('div', { class: 'card', id: 'queued' }, h('b', {}, o.queued), 'tasks queued'),
      h('div', { class: 'card', id: 'running' }, h('b', {}, o.running), 'tasks running'),
      h('div', { class: 'card' }, h('b', {}, rate.toFixed(2)), 'tasks/s (10 min)'),
      h('div', { class: 'card' }, h('b', {}, sum('failed')), 'failures (10 min)'),
      o.workers
        ? h(
            'div',
            { class: 'card' },
            h('b', {}, o.workers.filter((w) => w.connected).length),
            'workers connected',
          )
        : null,
    ),
    section(
      'Throughput, last 10 minutes',
      throughputChart(window),
      h(
        'p',
        { class: 'muted' },
        'Blue: tasks succeeded per second; red: attempts failed, timed out or lost.',
      ),
    ),
    section(
      'Running jobs',
      table(
        ['Job', 'Kind', 'Tenant', 'Progress'],
        o.jobs.map((job) => [
          link(`/jobs/${job.id}`, job.name ?? job.id),
          job.kind,
          job.tenantId ?? 'admin',
          progress(job),
        ]),
        'No job is running.',
      ),
    ),
    o.workers
      ? h('section', { id: 'workers' }, h('h2', {}, 'Workers'), workersTable(o.workers))
      : null,
    o.queue
      ? section(
          'Queue by tenant and pipeline',
          table(
            ['Tenant', 'Pipeline', 'Queued', 'Running'],
            o.queue.entries.map((e) => [
              e.tenant ?? 'admin',
              e.pipeline ?? '–',
              e.queued,
              e.running,
            ]),
            'The queue is empty.',
          ),
        )
      : null,
  ];
}

/** @type {import('../main.js').View} */
export function overviewView(main) {
  const body = h(
    'div',
    { id: 'overview' },
    h('p', { class: 'muted' }, 'Waiting for the live overview…'),
  );
  main.append(body);
  return onOverview((o) => body.replaceChildren(...render(o).filter((n) => n !== null)));
}
