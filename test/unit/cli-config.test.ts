/** Where `tm` finds its control plane: --url/--token-file, then TM_URL/TM_TOKEN, then the config file. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, configPath, readCaFile, resolveConfig } from '../../cli/config.ts';
import { UsageError, exitCodeOf, describeError, EXIT } from '../../cli/exit.ts';
import { TmApiError, TmConnectionError } from '../../cli/sdk/errors.ts';

const files = (map: Record<string, string>) => (path: string) => map[path];
const HOME = '/home/u';
const DEFAULT_FILE = '/home/u/.config/tm/config.json';

describe('resolveConfig', () => {
  const file = files({
    [DEFAULT_FILE]: '{"url": "http://file:1", "token": "file-token"}',
    '/run/tm/token': 't\n',
  });

  it('flags beat env, env beats the file, the file beats the default', () => {
    const env = { TM_URL: 'http://env:1', TM_TOKEN: 'env-token' };
    expect(
      resolveConfig({
        flags: { url: 'http://flag:1', tokenFile: '/run/tm/token' },
        env,
        readFile: file,
        home: HOME,
      }),
    ).toEqual({ url: 'http://flag:1', token: 't', urlSource: '--url' });
    expect(resolveConfig({ flags: {}, env, readFile: file, home: HOME })).toEqual({
      url: 'http://env:1',
      token: 'env-token',
      urlSource: 'TM_URL',
    });
    expect(resolveConfig({ flags: {}, env: {}, readFile: file, home: HOME })).toEqual({
      url: 'http://file:1',
      token: 'file-token',
      urlSource: DEFAULT_FILE,
    });
    expect(resolveConfig({ flags: {}, env: {}, readFile: files({}), home: HOME })).toEqual({
      url: DEFAULT_URL,
      urlSource: 'default',
    });
  });

  it("uses the local stack's admin token only for a loopback URL and only when nothing else gives one", () => {
    const LOCAL = '/repo/.tm/admin-token';
    const read = files({ [LOCAL]: 'tma_local\n', '/given': 'given' });
    const at = (url: string, tokenFile?: string) =>
      resolveConfig({
        flags: { url, tokenFile },
        env: {},
        readFile: read,
        home: HOME,
        localTokenFile: LOCAL,
      }).token;
    expect(at('http://localhost:8080')).toBe('tma_local');
    expect(at('http://127.0.0.1:9000')).toBe('tma_local');
    expect(at('http://localhost:8080', '/given')).toBe('given');
    expect(at('https://tm.example.workers.dev')).toBeUndefined();
    expect(at('http://10.0.0.5:8080')).toBeUndefined();
    expect(at('http://localhost.example.com:8080')).toBeUndefined();
  });

  it('takes --master-addr HOST:PORT as another name for --url, keeping a scheme given', () => {
    const resolve = (masterAddr: string, url?: string) =>
      resolveConfig({ flags: { masterAddr, url }, env: { TM_URL: 'http://env:1' }, home: HOME });
    expect(resolve('127.0.0.1:8080')).toMatchObject({
      url: 'http://127.0.0.1:8080',
      urlSource: '--master-addr',
    });
    expect(resolve('https://tm.example:443/').url).toBe('https://tm.example:443');
    expect(() => resolve('127.0.0.1:8080', 'http://h:1')).toThrow(/--url or --master-addr/);
  });

  it('refuses a --token-file that is missing or empty, naming it', () => {
    for (const path of ['/missing', '/empty'])
      expect(() =>
        resolveConfig({
          flags: { tokenFile: path },
          env: {},
          readFile: files({ '/empty': ' \n' }),
          home: HOME,
        }),
      ).toThrow(new UsageError(`--token-file ${path}: no such file, or it is empty`));
  });

  it('takes url and token each from the first place that has it', () => {
    const config = resolveConfig({
      flags: { url: 'http://flag:1' },
      env: {},
      readFile: file,
      home: HOME,
    });
    expect(config).toEqual({ url: 'http://flag:1', token: 'file-token', urlSource: '--url' });
    expect(resolveConfig({ flags: {}, env: { TM_URL: '' }, readFile: file, home: HOME }).url).toBe(
      'http://file:1',
    );
  });

  it('finds the file at $TM_CONFIG, else $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ TM_CONFIG: '/etc/tm.json' }, HOME)).toBe('/etc/tm.json');
    expect(configPath({ XDG_CONFIG_HOME: '/x' }, HOME)).toBe('/x/tm/config.json');
    expect(configPath({}, HOME)).toBe(DEFAULT_FILE);
    const config = resolveConfig({
      flags: {},
      env: { TM_CONFIG: '/etc/tm.json' },
      readFile: files({
        '/etc/tm.json': '{"url": "http://etc:2"}',
        [DEFAULT_FILE]: '{"url": "http://no:1"}',
      }),
      home: HOME,
    });
    expect(config.url).toBe('http://etc:2');
  });

  it('rejects a broken file, and a $TM_CONFIG that does not exist', () => {
    const read = (text: string) => files({ [DEFAULT_FILE]: text });
    expect(() => resolveConfig({ flags: {}, env: {}, readFile: read('{'), home: HOME })).toThrow(
      /not valid JSON/,
    );
    expect(() => resolveConfig({ flags: {}, env: {}, readFile: read('[]'), home: HOME })).toThrow(
      UsageError,
    );
    expect(() =>
      resolveConfig({ flags: {}, env: {}, readFile: read('{"url": 8080}'), home: HOME }),
    ).toThrow(/"url" must be a string/);
    expect(() =>
      resolveConfig({ flags: {}, env: { TM_CONFIG: '/nope' }, readFile: files({}), home: HOME }),
    ).toThrow(/does not exist/);
  });
});

describe('the CA file', () => {
  it('comes from --ca-file, TM_CA_FILE or "caFile" in the file, relative to the file', () => {
    const file = files({ [DEFAULT_FILE]: '{"caFile": "tls/ca.pem"}' });
    const at = (flags: { caFile?: string }, env: Record<string, string>) =>
      resolveConfig({ flags, env, readFile: file, home: HOME }).caFile;
    expect(at({ caFile: 'flag.pem' }, { TM_CA_FILE: '/env.pem' })).toBe('flag.pem');
    expect(at({}, { TM_CA_FILE: '/env.pem' })).toBe('/env.pem');
    expect(at({}, {})).toBe('/home/u/.config/tm/tls/ca.pem');
    expect(
      resolveConfig({ flags: {}, env: {}, readFile: files({}), home: HOME }),
    ).not.toHaveProperty('caFile');
    expect(() =>
      resolveConfig({
        flags: {},
        env: {},
        readFile: files({ [DEFAULT_FILE]: '{"caFile": true}' }),
        home: HOME,
      }),
    ).toThrow(/"caFile" must be a string/);
  });

  it('is read, or refused with a usage error naming it', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(readCaFile('/ca.pem', () => pem).toString()).toBe(pem);
    const missing = () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    };
    expect(() => readCaFile('/nope.pem', missing)).toThrow(
      new UsageError('cannot read the CA file /nope.pem (ENOENT)'),
    );
    expect(() => readCaFile('/key.pem', () => 'not a certificate')).toThrow(
      /holds no PEM certificate/,
    );
  });
});

describe('exit codes', () => {
  it('maps errors to the documented codes', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(EXIT.usage);
    expect(exitCodeOf(new TmApiError(400, 'bad_request', 'x'))).toBe(2);
    expect(exitCodeOf(new TmApiError(404, 'not_found', 'x'))).toBe(3);
    expect(exitCodeOf(new TmApiError(409, 'conflict', 'x'))).toBe(1);
    expect(exitCodeOf(new TmConnectionError('http://h:1', new Error('x')))).toBe(4);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });

  it('says where an unreachable URL came from', () => {
    const error = new TmConnectionError(
      'http://h:1',
      Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
    );
    const text = describeError(error, 'TM_URL');
    expect(text).toContain('cannot reach the control plane at http://h:1 (ECONNREFUSED)');
    expect(text).toMatch(/hint: .*tm up.*came from TM_URL/);
  });

  it('names a TLS problem and the option that fixes it', () => {
    const failure = (url: string, code: string, message: string) =>
      new TmConnectionError(
        url,
        Object.assign(new TypeError('fetch failed'), { cause: { code, message } }),
      );
    const untrusted = describeError(
      failure(
        'https://h:1',
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        'unable to verify the first certificate',
      ),
    );
    expect(untrusted).toContain(
      'cannot reach the control plane at https://h:1 (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)',
    );
    expect(untrusted).toMatch(/hint: .*not trusted; pass --ca-file FILE \(or TM_CA_FILE/);
    expect(describeError(failure('http://h:1', 'UND_ERR_SOCKET', 'other side closed'))).toMatch(
      /hint: .*if it serves https .*use an https:\/\/ URL/,
    );
    expect(
      describeError(failure('https://h:1', 'ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number')),
    ).toMatch(/does not speak TLS there; use an http:\/\/ URL/);
    expect(describeError(failure('https://h:1', 'ERR_TLS_CERT_ALTNAME_INVALID', 'x'))).toMatch(
      /does not name this host/,
    );
  });
});
