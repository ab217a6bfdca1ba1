// @ts-check
/** A tenant's pipelines: versions, queue, running, throughput and wanted agents (refreshed). */
import { get } from '../api.js';
import { errorBox, h, section, table, time } from '../dom.js';
import { onOverview } from '../live.js';

/** @typedef {import('../../../protocol/pipelines.ts').ApplicationView} ApplicationView */
/** @typedef {import('../../../protocol/pipelines.ts').PipelineView} PipelineView */

const REFRESH_MS = 5000;

/** @param {AbortSignal} signal */
async function pipelines(signal) {
  const { applications } = /** @type {{ applications: ApplicationView[] }} */ (
    await get('/api/applications', { signal })
  );
  const lists = await Promise.all(
    applications.map(
      async (app) =>
        /** @type {{ pipelines: PipelineView[] }} */ (
          await get(`/api/applications/${encodeURIComponent(app.name)}/pipelines`, { signal })
        ).pipelines,
    ),
  );
  return lists.flat();
}

/** @type {import('../main.js').View} */
export function pipelinesView(main, { who }) {
  if (who.kind === 'admin') {
    // Pipelines belong to tenants (/api/applications acts inside one); the admin sees their load.
    const body = h('div', {}, h('p', { class: 'muted' }, 'Waiting for the live overview…'));
    main.append(
      section(
        'Pipelines',
        h(
          'p',
          { class: 'muted' },
          'Pipelines belong to tenants: log in with a tenant token to see their versions and scaling. Their queue, across tenants:',
        ),
        body,
      ),
    );
    return onOverview((o) => {
      const rows = (o.queue?.entries ?? [])
        .filter((e) => e.pipeline !== null)
        .map((e) => [e.tenant ?? 'admin', e.pipeline ?? '', e.queued, e.running]);
      body.replaceChildren(
        table(
          ['Tenant', 'Pipeline', 'Queued', 'Running'],
          rows,
          'No pipeline has tasks queued or running.',
        ),
      );
    });
  }
  const control = new AbortController();
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading pipelines…'));
  main.append(section('Pipelines', body));
  const load = async () => {
    while (!control.signal.aborted) {
      try {
        const list = await pipelines(control.signal);
        body.replaceChildren(
          table(
            [
              'Pipeline',
              'Version',
              'Queued',
              'Running',
              'Per minute',
              'Mean task',
              'Ready agents',
              'Wanted agents',
              'Updated',
            ],
            list.map((p) => [
              `${p.application}/${p.name}`,
              `${p.version} of ${p.latestVersion}`,
              p.stats.queued,
              p.stats.running,
              p.stats.throughputPerMinute.toFixed(1),
              p.stats.meanTaskSeconds === null ? '–' : `${p.stats.meanTaskSeconds.toFixed(1)} s`,
              p.stats.readyAgents,
              p.stats.wantedAgents,
              time(p.updatedAt),
            ]),
            'No pipelines yet: define one with POST /api/applications/:app/pipelines (docs/pipelines.md).',
          ),
        );
      } catch (error) {
        if (control.signal.aborted) return;
        body.replaceChildren(errorBox(error));
      }
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
    }
  };
  void load();
  return () => control.abort();
}
