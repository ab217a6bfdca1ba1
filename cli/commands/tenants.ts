/** `tm tenants`, `tm tenant create|set|token|revoke|weight`, `tm whoami`: tenants and their tokens. */
import type { CreatedTenantToken, TenantView } from '../../protocol/index.ts';
import { numberFlag, takePositionals } from '../args.ts';
import type { Command, Ctx } from '../context.ts';
import { UsageError } from '../exit.ts';
import { renderTable } from '../format/table.ts';
import { describePermissions, PERMISSION_FLAGS, permissionRequest } from './tenant-permissions.ts';

const WEIGHT_RANGE = { min: 1, max: 1000 };

const shortTime = (iso: string | null) =>
  iso === null ? 'never' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function tenantsTable(tenants: readonly TenantView[], width: number): string {
  const rows = tenants.map((t) => ({
    NAME: t.name,
    WEIGHT: t.weight,
    TOKENS: t.tokens.length,
    'LAST USED': shortTime(lastUse(t)),
    CREATED: shortTime(t.createdAt),
    ID: t.id,
  }));
  const columns = ['NAME', 'WEIGHT', 'TOKENS', 'LAST USED', 'CREATED', 'ID'];
  return renderTable(columns, rows, { maxWidth: width });
}

/** The latest use of any of the tenant's tokens. */
function lastUse(tenant: TenantView): string | null {
  const uses = tenant.tokens.flatMap((t) => (t.lastUsedAt ? [t.lastUsedAt] : []));
  return uses.sort().at(-1) ?? null;
}

function tokensTable(tenant: TenantView, width: number): string {
  const rows = tenant.tokens.map((t) => ({
    'TOKEN ID': t.id,
    CREATED: shortTime(t.createdAt),
    'LAST USED': shortTime(t.lastUsedAt),
  }));
  return renderTable(['TOKEN ID', 'CREATED', 'LAST USED'], rows, { maxWidth: width });
}

/** Prints a token just made: the only time anyone sees it. */
function printNewToken(ctx: Ctx, reply: CreatedTenantToken): void {
  ctx.out(`token ${reply.tokenId}: ${reply.token}`);
  ctx.out('Keep it now: it is stored hashed and will not be shown again.');
}

const PERMISSIONS_HELP =
  'A new tenant may submit echo, pipeline and aggregate jobs, with no executor, no store and no\n' +
  'free-form programs until granted; commands are a grant too. See docs/security.md.\n' +
  'e.g. --kinds pipeline,aggregate,echo --executors wget,tesseract --read data:acme/ --write data:acme/out/';

export const tenants: Command = {
  name: 'tenants',
  summary: 'list tenants with weight and tokens (admin token; never the tokens themselves)',
  usage: '',
  details:
    'Also: tm tenant create NAME, tm tenant set NAME, tm tenant token NAME,\n' +
    'tm tenant revoke NAME TOKEN_ID, tm tenant weight NAME N (see their --help).',
  flags: {},
  async run(ctx) {
    takePositionals(ctx.args, []);
    const list = await ctx.client.listTenants();
    if (ctx.json) ctx.printJson({ tenants: list });
    else ctx.out(list.length ? tenantsTable(list, ctx.width) : 'no tenants');
    return 0;
  },
};

export const createTenant: Command = {
  name: 'tenant create',
  summary: 'make a tenant and its first token; prints the token once',
  usage: 'NAME [--weight N] [permission flags]',
  details: PERMISSIONS_HELP,
  flags: {
    weight: { type: 'string', value: 'N', help: 'share of the cluster, 1-1000 (default 1)' },
    ...PERMISSION_FLAGS,
  },
  async run(ctx) {
    const [name] = takePositionals(ctx.args, ['NAME']);
    const weight = numberFlag(ctx.args, 'weight', WEIGHT_RANGE);
    const reply = await ctx.client.createTenant({
      name: name!,
      ...(weight === undefined ? {} : { weight }),
      ...permissionRequest(ctx.args),
    });
    if (ctx.json) {
      ctx.printJson(reply);
      return 0;
    }
    ctx.out(`made tenant ${reply.tenant.name} (${reply.tenant.id}), weight ${reply.tenant.weight}`);
    ctx.out(describePermissions(reply.tenant));
    printNewToken(ctx, reply);
    return 0;
  },
};

export const setTenant: Command = {
  name: 'tenant set',
  summary: 'grant or take back permissions, set the queue quota or the weight of a tenant',
  usage: 'NAME [--weight N] [permission flags]',
  details: `${PERMISSIONS_HELP}\nFlags not given leave those settings as they are.`,
  flags: {
    weight: { type: 'string', value: 'N', help: 'share of the cluster, 1-1000' },
    ...PERMISSION_FLAGS,
  },
  async run(ctx) {
    const [name] = takePositionals(ctx.args, ['NAME']);
    const weight = numberFlag(ctx.args, 'weight', WEIGHT_RANGE);
    const request = { ...(weight === undefined ? {} : { weight }), ...permissionRequest(ctx.args) };
    if (Object.keys(request).length === 0)
      throw new UsageError('nothing to set: give --weight or a permission flag (see --help)');
    const tenant = await ctx.client.updateTenant(name!, request);
    if (ctx.json) ctx.printJson(tenant);
    else ctx.out(`tenant ${tenant.name}, weight ${tenant.weight}:\n${describePermissions(tenant)}`);
    return 0;
  },
};

export const rotateTenantToken: Command = {
  name: 'tenant token',
  summary: 'make another token for a tenant (rotation); prints it once',
  usage: 'NAME',
  details:
    'The old tokens keep working until revoked: tm tenant revoke NAME TOKEN_ID.\n' +
    'NAME may also be the tenant’s id.',
  flags: {},
  async run(ctx) {
    const [name] = takePositionals(ctx.args, ['NAME']);
    const reply = await ctx.client.createTenantToken(name!);
    if (ctx.json) {
      ctx.printJson(reply);
      return 0;
    }
    printNewToken(ctx, reply);
    const older = reply.tenant.tokens.filter((t) => t.id !== reply.tokenId);
    if (older.length)
      ctx.out(
        `Its other tokens still work; revoke them with tm tenant revoke ${reply.tenant.name} TOKEN_ID:\n` +
          tokensTable({ ...reply.tenant, tokens: older }, ctx.width),
      );
    return 0;
  },
};

export const revokeTenantToken: Command = {
  name: 'tenant revoke',
  summary: 'revoke one of a tenant’s tokens by its id (see tm tenants --json for the ids)',
  usage: 'NAME TOKEN_ID',
  flags: {},
  async run(ctx) {
    const [name, tokenId] = takePositionals(ctx.args, ['NAME', 'TOKEN_ID']);
    const tenant = await ctx.client.revokeTenantToken(name!, tokenId!);
    if (ctx.json) ctx.printJson(tenant);
    else
      ctx.out(
        `revoked token ${tokenId} of tenant ${tenant.name}; ${tenant.tokens.length} token(s) left`,
      );
    return 0;
  },
};

export const setTenantWeight: Command = {
  name: 'tenant weight',
  summary: 'set a tenant’s weight, its share of the cluster under contention',
  usage: 'NAME N',
  flags: {},
  async run(ctx) {
    const [name, text] = takePositionals(ctx.args, ['NAME', 'N']);
    const weight = Number(text);
    if (!Number.isInteger(weight) || weight < WEIGHT_RANGE.min || weight > WEIGHT_RANGE.max)
      throw new UsageError(`the weight must be an integer from 1 to 1000, got "${text}"`);
    const tenant = await ctx.client.setTenantWeight(name!, weight);
    if (ctx.json) ctx.printJson(tenant);
    else ctx.out(`tenant ${tenant.name} now has weight ${tenant.weight}`);
    return 0;
  },
};

export const whoami: Command = {
  name: 'whoami',
  summary: 'whom the token speaks for: the admin, or a tenant',
  usage: '',
  flags: {},
  async run(ctx) {
    takePositionals(ctx.args, []);
    const who = await ctx.client.whoami();
    if (ctx.json) ctx.printJson(who);
    else ctx.out(who.kind === 'admin' ? 'admin' : `tenant ${who.tenantName} (${who.tenantId})`);
    return 0;
  },
};
