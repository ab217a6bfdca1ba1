// @ts-check
/** The admin's tenants: names, weights, quotas and tokens. */
import { get } from '../api.js';
import { errorBox, h, section, table, time } from '../dom.js';

/** @typedef {import('../../../protocol/tenants.ts').TenantView} TenantView */

/** @type {import('../main.js').View} */
export function tenantsView(main, { who }) {
  if (who.kind !== 'admin') {
    main.append(section('Tenants', h('p', { class: 'muted' }, 'Only the admin sees tenants.')));
    return;
  }
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading tenants…'));
  main.append(section('Tenants', body));
  const control = new AbortController();
  get('/v1/tenants', { signal: control.signal }).then(
    (reply) => {
      const { tenants } = /** @type {{ tenants: TenantView[] }} */ (reply);
      body.replaceChildren(
        table(
          ['Name', 'Id', 'Weight', 'Queue quota', 'Tokens', 'Job kinds', 'Created'],
          tenants.map((t) => [
            t.name,
            t.id,
            t.weight,
            t.maxQueuedTasks ?? 'default',
            t.tokens.length,
            t.permissions.jobKinds?.join(', ') ?? 'default',
            time(t.createdAt),
          ]),
          'No tenants yet: create one with `tm tenant create NAME`.',
        ),
      );
    },
    (error) => control.signal.aborted || body.replaceChildren(errorBox(error)),
  );
  return () => control.abort();
}
