// @ts-check
/** The job list: filters by state, kind, tenant and creation time, paged by cursor. */
import { get } from '../api.js';
import { errorBox, h, link, pill, section, select, table, time } from '../dom.js';

/** @typedef {import('../../../protocol/jobs.ts').JobPage} JobPage */
/** @typedef {import('../../../protocol/tenants.ts').TenantView} TenantView */

const STATES = ['', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const KINDS = ['', 'command', 'echo', 'aggregate', 'dataflow'];
/** Filters the list takes from the route's query, as GET /v1/jobs names them. */
const FILTERS = ['state', 'kind', 'tenant', 'since', 'until'];

/** A datetime-local value from an ISO time. @param {string} iso */
const local = (iso) =>
  iso
    ? new Date(Date.parse(iso) - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
    : '';

/** @type {import('../main.js').View} */
export function jobsView(main, { who, params }) {
  const control = new AbortController();
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading jobs…'));
  /** @type {Map<string, string>} */
  const tenantNames = new Map();
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'filters', id: 'job-filters' }));

  const tenant = params.get('tenant') ?? '';
  const tenantSelect = select('tenant', tenant ? ['', tenant] : [''], tenant);
  form.append(
    h('label', {}, 'State', select('state', STATES, params.get('state') ?? '')),
    h('label', {}, 'Kind', select('kind', KINDS, params.get('kind') ?? '')),
    who.kind === 'admin' ? h('label', {}, 'Tenant', tenantSelect) : '',
    h(
      'label',
      {},
      'Created since',
      h('input', {
        type: 'datetime-local',
        name: 'since',
        value: local(params.get('since') ?? ''),
      }),
    ),
    h(
      'label',
      {},
      'Created before',
      h('input', {
        type: 'datetime-local',
        name: 'until',
        value: local(params.get('until') ?? ''),
      }),
    ),
    h('button', { type: 'submit' }, 'Filter'),
  );
  /** The tenant choices once their names are known, keeping what is chosen meanwhile. */
  function nameTenants() {
    const chosen = /** @type {HTMLSelectElement} */ (tenantSelect).value;
    const named = select('tenant', ['', ...tenantNames.keys()], chosen, tenantNames);
    tenantSelect.replaceChildren(...named.children);
    /** @type {HTMLSelectElement} */ (tenantSelect).value = chosen;
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (typeof value !== 'string' || value === '') continue;
      next.set(name, name === 'since' || name === 'until' ? new Date(value).toISOString() : value);
    }
    location.hash = `#/jobs?${next}`;
  });

  async function load() {
    const query = new URLSearchParams({ limit: '50' });
    for (const name of [...FILTERS, 'cursor']) {
      const value = params.get(name);
      if (value) query.set(name, value);
    }
    try {
      const page = /** @type {JobPage} */ (
        await get(`/v1/jobs?${query}`, { signal: control.signal })
      );
      const rows = page.jobs.map((job) => [
        link(`/jobs/${job.id}`, job.name ?? job.id),
        job.kind,
        pill(job.state),
        job.tenantId ? (tenantNames.get(job.tenantId) ?? job.tenantId) : 'admin',
        `${job.counts.succeeded}/${job.counts.queued + job.counts.running + job.counts.succeeded + job.counts.failed + job.counts.cancelled}`,
        time(job.createdAt),
      ]);
      const older = new URLSearchParams(params);
      if (page.next) older.set('cursor', page.next);
      const newest = new URLSearchParams(params);
      newest.delete('cursor');
      list.replaceChildren(
        table(
          ['Job', 'Kind', 'State', 'Tenant', 'Tasks done', 'Created'],
          rows,
          'No jobs match these filters.',
        ),
        h(
          'p',
          {},
          params.get('cursor') ? h('a', { href: `#/jobs?${newest}` }, '← Newest') : null,
          ' ',
          page.next ? h('a', { href: `#/jobs?${older}`, id: 'older' }, 'Older →') : null,
        ),
      );
    } catch (error) {
      if (!control.signal.aborted) list.replaceChildren(errorBox(error));
    }
  }

  main.append(section('Jobs', form, list));
  void (async () => {
    if (who.kind === 'admin') {
      try {
        const { tenants } = /** @type {{ tenants: TenantView[] }} */ (
          await get('/v1/tenants', { signal: control.signal })
        );
        for (const t of tenants) tenantNames.set(t.id, t.name);
        nameTenants();
      } catch {
        // The list still works without tenant names.
      }
    }
    await load();
  })();
  return () => control.abort();
}
