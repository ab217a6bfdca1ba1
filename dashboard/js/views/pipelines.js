// @ts-check
/**
 * A tenant's pipelines: versions, queue, running, throughput and wanted agents (refreshed). The
 * admin picks the tenant (GET /api/applications?tenant=ID) and sees the queue across tenants too.
 */
import { get } from '../api.js';
import { errorBox, h, section, select, table, time } from '../dom.js';
import { onOverview } from '../live.js';

/** @typedef {import('../../../protocol/pipelines.ts').ApplicationView} ApplicationView */
/** @typedef {import('../../../protocol/pipelines.ts').PipelineView} PipelineView */
/** @typedef {import('../../../protocol/tenants.ts').TenantView} TenantView */

const REFRESH_MS = 5000;

/**
 * Every pipeline of the caller's tenant, or for the admin of tenant `tenant` (its id).
 * @param {AbortSignal} signal @param {string | null} tenant
 */
async function pipelines(signal, tenant) {
  const query = tenant === null ? '' : `?${new URLSearchParams({ tenant })}`;
  const { applications } = /** @type {{ applications: ApplicationView[] }} */ (
    await get(`/api/applications${query}`, { signal })
  );
  const lists = await Promise.all(
    applications.map(
      async (app) =>
        /** @type {{ pipelines: PipelineView[] }} */ (
          await get(`/api/applications/${encodeURIComponent(app.name)}/pipelines${query}`, {
            signal,
          })
        ).pipelines,
    ),
  );
  return lists.flat();
}

/** @param {PipelineView[]} list */
const pipelineTable = (list) =>
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
  );

/**
 * Shows the pipelines in `body`, refreshed until `signal` aborts.
 * @param {HTMLElement} body @param {AbortSignal} signal @param {string | null} tenant
 */
async function showPipelines(body, signal, tenant) {
  while (!signal.aborted) {
    try {
      body.replaceChildren(pipelineTable(await pipelines(signal, tenant)));
    } catch (error) {
      if (signal.aborted) return;
      body.replaceChildren(errorBox(error));
    }
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

/**
 * The admin's tenant picker: the chosen tenant's pipelines (`#/pipelines?tenant=ID`; the first
 * tenant until one is chosen).
 * @param {HTMLElement} body @param {AbortSignal} signal @param {string | null} chosen
 */
async function pickTenant(body, signal, chosen) {
  try {
    const { tenants } = /** @type {{ tenants: TenantView[] }} */ (
      await get('/v1/tenants', { signal })
    );
    const tenant = tenants.find((t) => t.id === chosen) ?? tenants[0];
    if (!tenant) {
      body.replaceChildren(
        h(
          'p',
          { class: 'muted empty' },
          'No tenants yet: create one with `tm tenant create NAME`.',
        ),
      );
      return;
    }
    const names = new Map(tenants.map((t) => [t.id, t.name]));
    const picker = select('tenant', [...names.keys()], tenant.id, names);
    picker.id = 'pipeline-tenant';
    picker.addEventListener('change', () => {
      const next = new URLSearchParams({ tenant: /** @type {HTMLSelectElement} */ (picker).value });
      location.hash = `#/pipelines?${next}`;
    });
    const list = h('div', {}, h('p', { class: 'muted' }, 'Loading pipelines…'));
    body.replaceChildren(h('form', { class: 'filters' }, h('label', {}, 'Tenant', picker)), list);
    await showPipelines(list, signal, tenant.id);
  } catch (error) {
    if (!signal.aborted) body.replaceChildren(errorBox(error));
  }
}

/** The queue across tenants, from the live overview. @param {HTMLElement} main */
function queueAcrossTenants(main) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Waiting for the live overview…'));
  main.append(section('Pipeline queue, across tenants', body));
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

/** @type {import('../main.js').View} */
export function pipelinesView(main, { who, params }) {
  const control = new AbortController();
  const body = h('div', { id: 'pipelines' }, h('p', { class: 'muted' }, 'Loading pipelines…'));
  main.append(section('Pipelines', body));
  if (who.kind !== 'admin') {
    void showPipelines(body, control.signal, null);
    return () => control.abort();
  }
  void pickTenant(body, control.signal, params.get('tenant'));
  const stopQueue = queueAcrossTenants(main);
  return () => {
    control.abort();
    stopQueue();
  };
}
