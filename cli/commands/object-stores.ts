/** `tm object-stores`, `tm object-stores add s3://…`, `tm object-stores remove NAME`. */
import { boolFlag, stringFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../exit.ts';
import { renderTable } from '../format/table.ts';

export const objectStores: Command = {
  name: 'object-stores',
  summary: 'list the registered S3/R2 object stores (never their credentials)',
  usage: '',
  details:
    'Also: tm object-stores add s3://BUCKET[/PREFIX] … registers one (see its --help),\n' +
    'tm object-stores remove NAME removes one.',
  flags: {},
  async run(ctx) {
    takePositionals(ctx.args, []);
    const stores = await ctx.client.listStores();
    if (ctx.json) {
      ctx.printJson({ objectStores: stores });
      return 0;
    }
    const rows = stores.map((s) => ({
      NAME: s.name,
      URL: s.url,
      ENDPOINT: s.endpoint ?? '(AWS)',
      REGION: s.region,
      CREDENTIALS: s.hasCredentials ? 'yes' : 'no',
      ID: s.id,
    }));
    ctx.out(
      rows.length
        ? renderTable(['NAME', 'URL', 'ENDPOINT', 'REGION', 'CREDENTIALS', 'ID'], rows, {
            maxWidth: ctx.width,
          })
        : 'no object stores',
    );
    return 0;
  },
};

export const addObjectStore: Command = {
  name: 'object-stores add',
  summary: 'register an S3-compatible store (AWS S3, Cloudflare R2, MinIO …)',
  usage:
    's3://BUCKET[/PREFIX] [--name NAME] [--endpoint URL] [--region R] [--access-key-id ID --secret-access-key-stdin] [--force-path-style]',
  details:
    'The secret is read from stdin (its first line) with --secret-access-key-stdin, else from\n' +
    '$AWS_SECRET_ACCESS_KEY when --access-key-id is given; it is never taken as an argument.',
  flags: {
    name: { type: 'string', value: 'NAME', help: 'the store’s name (default: the bucket’s)' },
    endpoint: { type: 'string', value: 'URL', help: 'S3 API endpoint (omit for AWS)' },
    region: { type: 'string', value: 'REGION', help: 'region (R2: auto)' },
    'access-key-id': { type: 'string', value: 'ID', help: 'access key id' },
    'secret-access-key-stdin': { type: 'boolean', help: 'read the secret access key from stdin' },
    'session-token-stdin': {
      type: 'boolean',
      help: 'read a session token from stdin (2nd line with the secret)',
    },
    'force-path-style': { type: 'boolean', help: 'path-style URLs (MinIO, local servers)' },
  },
  async run(ctx) {
    const [url] = takePositionals(ctx.args, ['URL']);
    const accessKeyId = stringFlag(ctx.args, 'access-key-id');
    let secretAccessKey: string | undefined;
    let sessionToken: string | undefined;
    const fromStdin = boolFlag(ctx.args, 'secret-access-key-stdin');
    const tokenFromStdin = boolFlag(ctx.args, 'session-token-stdin');
    if (fromStdin || tokenFromStdin) {
      const lines = (await ctx.readStdin()).split(/\r?\n/);
      if (fromStdin) secretAccessKey = lines.shift()?.trim() || undefined;
      if (tokenFromStdin) sessionToken = lines.shift()?.trim() || undefined;
      if (fromStdin && !secretAccessKey) throw new UsageError('no secret access key on stdin');
    } else if (accessKeyId) {
      secretAccessKey = ctx.env.AWS_SECRET_ACCESS_KEY || undefined;
    }
    if (accessKeyId && !secretAccessKey)
      throw new UsageError(
        '--access-key-id needs a secret: pipe it with --secret-access-key-stdin or set AWS_SECRET_ACCESS_KEY',
      );
    if (secretAccessKey && !accessKeyId)
      throw new UsageError('a secret access key needs --access-key-id');
    const options = {
      name: stringFlag(ctx.args, 'name'),
      endpoint: stringFlag(ctx.args, 'endpoint'),
      region: stringFlag(ctx.args, 'region'),
      accessKeyId,
      secretAccessKey,
      sessionToken,
      forcePathStyle: boolFlag(ctx.args, 'force-path-style') || undefined,
    };
    const request = {
      url: url!,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
    const reply = await ctx.client.registerStore(request);
    if (ctx.json) ctx.printJson(reply);
    else
      ctx.out(
        `${reply.created ? 'registered' : 'already registered:'} object store ${reply.store.name} (${reply.store.url}, ${reply.store.hasCredentials ? 'with' : 'without'} credentials)`,
      );
    return 0;
  },
};

export const removeObjectStore: Command = {
  name: 'object-stores remove',
  summary: 'remove a registered object store (its objects stay)',
  usage: 'NAME',
  flags: {},
  async run(ctx) {
    const [name] = takePositionals(ctx.args, ['NAME']);
    const store = await ctx.client.deleteStore(name!);
    if (ctx.json) ctx.printJson(store);
    else ctx.out(`removed object store ${store.name}`);
    return 0;
  },
};
