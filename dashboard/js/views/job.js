// @ts-check
/**
 * One job: its state and cancel button, tasks with every attempt, live logs, an aggregation's
 * progress and result, a dataflow job's stages as a graph. Refreshed every REFRESH_MS until it ends.
 */
import { get, post, readLines, request } from '../api.js';
import { bar, bytes, errorBox, h, pill, section, table, time, took } from '../dom.js';
import { dagChart } from '../dag.js';
import { download, toCsv } from '../csv.js';

/** @typedef {import('../../../protocol/jobs.ts').JobView} JobView */
/** @typedef {import('../../../protocol/jobs.ts').TaskView} TaskView */
/** @typedef {import('../../../protocol/aggregate.ts').ResultPage} ResultPage */
/** @typedef {import('../../../protocol/logs.ts').LogEntry} LogEntry */

const REFRESH_MS = 2000;
/** Tasks the job view lists (the API pages the rest). */
const TASKS_SHOWN = 200;
/** Rows of the result shown; the downloads hold all of them. */
const RESULT_ROWS = 100;
const ENDED = ['succeeded', 'failed', 'cancelled'];
/** Output entries the page keeps; older ones leave as new ones come (`tm logs` has them all). */
const LOG_ENTRIES_SHOWN = 5000;

/** @param {JobView} job @param {() => void} onCancel */
function header(job, onCancel) {
  const ended = ENDED.includes(job.state);
  return h(
    'section',
    { id: 'job-header' },
    h('h2', {}, `${job.kind} job ${job.name ?? ''}`.trim(), ' ', pill(job.state)),
    h('p', { class: 'muted' }, `id ${job.id} · tenant ${job.tenantId ?? 'admin'}`),
    table(
      ['Created', 'Started', 'Finished', 'Took', 'Tasks', 'Attempts ended'],
      [
        [
          time(job.createdAt),
          time(job.startedAt),
          time(job.finishedAt),
          took(job.startedAt, job.finishedAt),
          Object.entries(job.counts)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ') || '0',
          Object.entries(job.attempts)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ') || '–',
        ],
      ],
      '',
    ),
    job.error ? h('p', { class: 'error' }, job.error) : null,
    ended ? null : h('button', { type: 'button', id: 'cancel', onclick: onCancel }, 'Cancel job'),
  );
}

/** @param {JobView} job */
function aggregateProgress(job) {
  const p = job.progress;
  if (!p) return null;
  const seconds = job.startedAt
    ? ((job.finishedAt ? Date.parse(job.finishedAt) : Date.now()) - Date.parse(job.startedAt)) /
      1000
    : 0;
  const rate = seconds > 0 ? p.rowsRead / seconds : 0;
  const cached = p.bytesRead > 0 ? (p.bytesCached / p.bytesRead) * 100 : 0;
  return section(
    'Aggregation',
    table(
      ['Phase', 'Tasks', 'Rows read', 'Rows/s', 'Bytes read', 'From cache'],
      [
        [
          p.phase,
          h('span', {}, bar(p.tasksDone, p.tasksTotal), ` ${p.tasksDone}/${p.tasksTotal}`),
          p.rowsRead.toLocaleString(),
          Math.round(rate).toLocaleString(),
          bytes(p.bytesRead),
          `${cached.toFixed(0)} %`,
        ],
      ],
      '',
    ),
  );
}

/** The history of one task: every ended attempt, then the current one. @param {string} id */
async function history(id) {
  const task = /** @type {TaskView} */ (await get(`/v1/tasks/${id}`));
  const rows = (task.history ?? []).map((a) => [
    a.attempt,
    a.workerId ?? '–',
    pill(a.outcome),
    a.exitCode ?? '–',
    time(a.startedAt),
    took(a.startedAt, a.finishedAt),
    a.error ?? '',
  ]);
  if (!(task.history ?? []).some((a) => a.attempt === task.attempt) && task.attempt > 0)
    rows.push([
      task.attempt,
      task.workerId ?? '–',
      pill(task.state),
      task.exitCode ?? '–',
      time(task.startedAt),
      took(task.startedAt, task.finishedAt),
      task.error ?? '',
    ]);
  return table(
    ['Attempt', 'Worker', 'Outcome', 'Exit', 'Started', 'Took', 'Error'],
    rows,
    'No attempt yet.',
  );
}

/** @param {TaskView[]} tasks */
function tasksTable(tasks) {
  if (tasks.length === 0) return h('p', { class: 'muted empty' }, 'No tasks yet.');
  const body = h('tbody');
  for (const task of tasks) {
    const detail = h('td', { colspan: 8 });
    const detailRow = h('tr', { hidden: true }, detail);
    const toggle = async () => {
      detailRow.hidden = !detailRow.hidden;
      if (detailRow.hidden) return;
      detail.replaceChildren(h('p', { class: 'muted' }, 'Loading attempts…'));
      try {
        detail.replaceChildren(await history(task.id));
      } catch (error) {
        detail.replaceChildren(errorBox(error));
      }
    };
    body.append(
      h(
        'tr',
        { 'data-task': task.id },
        ...[
          task.stage ? `${task.stage.name}[${task.stage.instance}]` : task.index,
          pill(task.state),
          task.attempt,
          task.workerId ?? '–',
          task.exitCode ?? '–',
          time(task.startedAt),
          took(task.startedAt, task.finishedAt),
          h('button', { type: 'button', onclick: toggle }, 'Attempts'),
        ].map((cell) => h('td', {}, cell)),
      ),
      detailRow,
    );
  }
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Task', 'State', 'Attempt', 'Worker', 'Exit', 'Started', 'Took', ''].map((n) =>
          h('th', {}, n),
        ),
      ),
    ),
    body,
  );
}

/**
 * Follows the job's output as NDJSON until it ends or the view is left. At the end it awaits
 * `ended` (which shows the job as it ended) before it writes the end line, so the page never says
 * "ended" under a header that still says running.
 * @param {string} id @param {HTMLElement} pre @param {AbortSignal} signal @param {() => Promise<void>} ended
 */
async function followLogs(id, pre, signal, ended) {
  const response = await request(`/v1/jobs/${id}/logs?follow=true`, { signal });
  let empty = true;
  /** @type {string | null} */
  let endState = null;
  await readLines(response, (line) => {
    if (!line) return;
    const entry = JSON.parse(line);
    if (empty) pre.replaceChildren();
    empty = false;
    if (entry.end) {
      endState = entry.state;
      return;
    }
    const data = /** @type {LogEntry} */ (entry).data;
    pre.append(h('span', { class: entry.stream }, data.endsWith('\n') ? data : `${data}\n`));
    while (pre.childElementCount > LOG_ENTRIES_SHOWN) pre.firstElementChild?.remove();
    pre.scrollTop = pre.scrollHeight;
  });
  if (endState !== null) {
    await ended();
    pre.append(h('span', { class: 'system' }, `— the job ended: ${endState} —\n`));
  }
  if (empty) pre.replaceChildren(h('span', { class: 'system' }, '(no output)'));
}

/** Every page of the result. @param {string} id @param {ResultPage} first */
async function allRows(id, first) {
  const rows = [...first.rows];
  let next = first.next;
  while (next !== null) {
    const page = /** @type {ResultPage} */ (
      await get(`/v1/jobs/${id}/result?offset=${next}&limit=10000`)
    );
    rows.push(...page.rows);
    next = page.next;
  }
  return rows;
}

/** @param {string} id */
async function resultSection(id) {
  const page = /** @type {ResultPage} */ (await get(`/v1/jobs/${id}/result?limit=${RESULT_ROWS}`));
  const names = page.columns.map((c) => c.name);
  const csv = async () =>
    download(new Blob([toCsv(names, await allRows(id, page))], { type: 'text/csv' }), `${id}.csv`);
  const arrow = async () =>
    download(await (await request(`/v1/jobs/${id}/result?format=arrow`)).blob(), `${id}.arrow`);
  const shown = page.rows.map((row) =>
    names.map((name) => {
      const value = row[name];
      return value === null || value === undefined
        ? 'null'
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
    }),
  );
  return h(
    'section',
    { id: 'result' },
    h(
      'h2',
      {},
      `Result: ${page.total} rows`,
      page.total > page.rows.length ? ` (first ${page.rows.length} shown)` : '',
    ),
    h(
      'p',
      {},
      h('button', { type: 'button', id: 'download-csv', onclick: csv }, 'Download CSV'),
      ' ',
      h('button', { type: 'button', id: 'download-arrow', onclick: arrow }, 'Download Arrow'),
    ),
    table(
      names.map((name, i) => `${name} (${page.columns[i]?.type ?? ''})`),
      shown,
      'The result has no rows.',
    ),
  );
}

/** @param {HTMLElement} main @param {string} id @returns {() => void} */
export function jobView(main, id) {
  const control = new AbortController();
  const top = h('div', {}, h('p', { class: 'muted' }, 'Loading the job…'));
  const result = h('div');
  const logs = h(
    'pre',
    { class: 'logs', id: 'logs' },
    h('span', { class: 'system' }, 'Waiting for output…'),
  );
  const logSection = section('Logs (live)', logs);
  main.append(top);
  let following = false;
  let resultShown = false;

  /** @param {JobView} job */
  function show(job) {
    const cancel = async () => {
      try {
        show(/** @type {JobView} */ (await post(`/v1/jobs/${id}/cancel`)));
      } catch (error) {
        top.prepend(errorBox(error));
      }
    };
    top.replaceChildren(
      header(job, cancel),
      aggregateProgress(job) ?? '',
      job.stages ? section('Stages', dagChart(job.stages)) : '',
      section(
        `Tasks${job.tasksNext ? ` (first ${TASKS_SHOWN})` : ''}`,
        tasksTable(job.tasks ?? []),
      ),
    );
    if (job.kind === 'aggregate' && job.state === 'succeeded' && !resultShown) {
      resultShown = true;
      resultSection(id).then(
        (s) => result.replaceChildren(s),
        (error) => result.replaceChildren(errorBox(error)),
      );
    }
  }

  const read = async () =>
    /** @type {JobView} */ (
      await get(`/v1/jobs/${id}?tasks=${TASKS_SHOWN}`, { signal: control.signal })
    );

  async function refresh() {
    while (!control.signal.aborted) {
      let job;
      try {
        job = await read();
      } catch (error) {
        if (control.signal.aborted) return;
        top.replaceChildren(errorBox(error));
        return;
      }
      show(job);
      if (!following) {
        following = true;
        main.append(result, logSection);
        followLogs(id, logs, control.signal, async () => show(await read())).catch((error) => {
          if (!control.signal.aborted)
            logs.append(h('span', { class: 'stderr' }, `\n(log stream lost: ${error.message})\n`));
        });
      }
      if (ENDED.includes(job.state)) return;
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
    }
  }
  void refresh();
  return () => control.abort();
}
