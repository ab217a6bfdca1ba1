/** tm-agent's option parser: defaults, environment, and clear errors that never quote the token. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseArgs, USAGE } from '../../worker-agent/args.ts';
import { describeTlsFailure } from '../../worker-agent/tls.ts';
import type { ArgsEnvironment } from '../../worker-agent/args.ts';

const TOKEN = 'tm_join_s3cr3t-token';
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
// Keys made for the test run, so no key material sits in the source.
const KEY = String(
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
);
const EC_KEY = String(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
    type: 'sec1',
    format: 'pem',
  }),
);
const PEM_FILES: Record<string, string> = {
  '/srv/agent/.tm/tls/ca.pem': CA,
  '/etc/tm/client.pem': CA,
  '/etc/tm/client-key.pem': KEY,
  '/etc/tm/ec-key.pem': EC_KEY,
};

function io(overrides: Partial<ArgsEnvironment> = {}): ArgsEnvironment {
  return {
    env: {},
    cwd: '/srv/agent',
    defaultSlots: 8,
    readFile: (path) => {
      if (path === '/etc/tm/token') return `${TOKEN}\n`;
      if (path in PEM_FILES) return PEM_FILES[path]!;
      if (path === '/etc/tm/empty') return '  \n';
      if (path === '/etc/tm/executors.json')
        return JSON.stringify({ wget: null, tesseract: '/opt/tess/bin/tesseract' });
      if (path === '/srv/agent/list.json') return '["wget"]';
      if (path === '/srv/agent/odd.json') return '{"wget": 1}';
      if (path === '/srv/agent/broken.json') return '{"wget":';
      throw new Error(`ENOENT: ${path}`);
    },
    isDirectory: (path) => ['/srv/agent', '/srv/agent/jobs', '/data'].includes(path),
    isExecutable: (path) =>
      ['/usr/bin/wget', '/opt/tess/bin/tesseract', '/srv/agent/bin/fake-wget'].includes(path),
    homeDir: '/home/agent',
    ...overrides,
  };
}

function run(argv: string[], env: Partial<ArgsEnvironment> = {}) {
  const parsed = parseArgs(argv, io(env));
  if (parsed.kind !== 'run') throw new Error('expected run options');
  return parsed.options;
}

/** The error message of a parse that must fail. */
function errorOf(argv: string[], env: Partial<ArgsEnvironment> = {}): string {
  try {
    parseArgs(argv, io(env));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the parse to fail');
}

describe('parseArgs', () => {
  it('parses a full command line', () => {
    const options = run([
      '--control-plane',
      'https://tm.example.com/base/',
      '--token-file',
      '/etc/tm/token',
      '--address',
      'worker-1.internal:50051',
      '--slots',
      '4',
      '--data-port',
      '7071',
      '--work-dir',
      'jobs',
      '--no-commands',
      '--kill-grace-ms=250',
      '--store-timeout-ms',
      '2000',
      '--key-file',
      'keys/agent.pem',
      '--cache-dir',
      'cache',
      '--cache-mb=64',
    ]);
    expect(options).toEqual({
      connectUrl: 'wss://tm.example.com/base/v1/agent/connect',
      token: TOKEN,
      address: 'worker-1.internal:50051',
      listenHost: 'worker-1.internal',
      listenPort: 50051,
      dataPort: 7071,
      slots: 4,
      workDir: '/srv/agent/jobs',
      acceptsCommands: false,
      killGraceMs: 250,
      storeTimeoutMs: 2000,
      executors: {},
      keyFile: '/srv/agent/keys/agent.pem',
      cache: { dir: '/srv/agent/cache', maxBytes: 64 * 1024 * 1024 },
      isolation: 'auto',
      taskNetwork: false,
      secretPaths: ['/srv/agent/keys/agent.pem', '/etc/tm/token', '/srv/agent/cache'],
      logFormat: 'text',
    });
  });

  it('reads the log format from --log-format, else TM_LOG_FORMAT, and refuses any other', () => {
    const env = { TM_JOIN_TOKEN: TOKEN, TM_LOG_FORMAT: 'json' };
    expect(run(['--address', 'localhost:1'], { env }).logFormat).toBe('json');
    expect(run(['--address', 'localhost:1', '--log-format=text'], { env }).logFormat).toBe('text');
    const token = { env: { TM_JOIN_TOKEN: TOKEN } };
    expect(run(['--address', 'localhost:1'], token).logFormat).toBe('text');
    expect(run(['--address', 'localhost:1', '--log-format', 'json'], token).logFormat).toBe('json');
    expect(errorOf(['--address', 'localhost:1', '--log-format', 'yaml'], token)).toMatch(
      '--log-format must be text or json, not "yaml"',
    );
    expect(() =>
      run(['--address', 'localhost:1'], { env: { TM_JOIN_TOKEN: TOKEN, TM_LOG_FORMAT: 'xml' } }),
    ).toThrow('--log-format must be text or json, not "xml"');
  });

  it('reads the isolation mode, the task network flag, and what tasks must not see', () => {
    const options = run([
      '--address',
      'localhost:1',
      '--token-file',
      '/etc/tm/token',
      '--isolation',
      'bwrap',
      '--allow-task-network',
      '--client-cert',
      '/etc/tm/client.pem',
      '--client-key',
      '/etc/tm/client-key.pem',
    ]);
    expect(options.isolation).toBe('bwrap');
    expect(options.taskNetwork).toBe(true);
    expect(options.secretPaths).toEqual([
      '/home/agent/.local/state/tm-agent/localhost_1/agent-key.pem',
      '/etc/tm/token',
      '/etc/tm/client-key.pem',
      '/home/agent/.cache/tm-agent/localhost_1',
    ]);
    const fromEnv = run(['--address', 'localhost:1'], {
      env: { TM_JOIN_TOKEN: TOKEN, TM_ISOLATION: 'none' },
    });
    expect(fromEnv.isolation).toBe('none');
    expect(fromEnv.taskNetwork).toBe(false);
    expect(() =>
      run(['--address', 'localhost:1', '--isolation', 'chroot'], { env: { TM_JOIN_TOKEN: TOKEN } }),
    ).toThrow(/--isolation: expected bwrap, none or auto/);
  });

  it('applies defaults and reads the environment', () => {
    const options = run(['--address', 'localhost:50051'], {
      env: { TM_JOIN_TOKEN: TOKEN, TM_CONTROL_PLANE: 'ws://10.0.0.1:8787' },
    });
    expect(options.connectUrl).toBe('ws://10.0.0.1:8787/v1/agent/connect');
    expect(options.token).toBe(TOKEN);
    expect(options.slots).toBe(8);
    expect(options.workDir).toBe('/srv/agent');
    expect(options.acceptsCommands).toBe(true);
    expect(options.killGraceMs).toBe(5000);
    expect(options.storeTimeoutMs).toBe(30_000);
    expect(options.dataPort).toBe(0);
    expect(
      run(['--address', 'localhost:1'], {
        env: { TM_JOIN_TOKEN: TOKEN, TM_STORE_TIMEOUT_MS: '500' },
      }).storeTimeoutMs,
    ).toBe(500);
    expect(run(['--address', 'localhost:1', '--token-file', '/etc/tm/token']).connectUrl).toBe(
      'ws://localhost:8080/v1/agent/connect',
    );
  });

  it('keeps the key file under the XDG state dir, one per address, unless told otherwise', () => {
    const base = ['--token-file', '/etc/tm/token'];
    expect(run([...base, '--address', 'localhost:50051']).keyFile).toBe(
      '/home/agent/.local/state/tm-agent/localhost_50051/agent-key.pem',
    );
    expect(run([...base, '--address', '[::1]:50051']).keyFile).toBe(
      '/home/agent/.local/state/tm-agent/_1_50051/agent-key.pem',
    );
    expect(
      run([...base, '--address', 'h:1'], { env: { XDG_STATE_HOME: '/var/lib/me' } }).keyFile,
    ).toBe('/var/lib/me/tm-agent/h_1/agent-key.pem');
    // A relative XDG_STATE_HOME is invalid (XDG spec) and ignored.
    expect(run([...base, '--address', 'h:1'], { env: { XDG_STATE_HOME: 'state' } }).keyFile).toBe(
      '/home/agent/.local/state/tm-agent/h_1/agent-key.pem',
    );
    expect(
      run([...base, '--address', 'h:1'], { env: { TM_AGENT_KEY_FILE: '/etc/tm/agent.pem' } })
        .keyFile,
    ).toBe('/etc/tm/agent.pem');
    expect(
      run([...base, '--address', 'h:1', '--key-file', 'k.pem'], {
        env: { TM_AGENT_KEY_FILE: '/etc/tm/agent.pem' },
      }).keyFile,
    ).toBe('/srv/agent/k.pem');
    expect(errorOf([...base, '--address', 'h:1'], { homeDir: '' })).toBe(
      'no home directory for the default key file: give --key-file FILE',
    );
    expect(
      run([...base, '--address', 'h:1', '--key-file', '/k.pem'], { homeDir: '' }).keyFile,
    ).toBe('/k.pem');
    expect(errorOf([...base, '--address', 'h:1', '--key-file'])).toBe('--key-file needs a value');
  });

  it('caches input blocks per address under the XDG cache dir, or where and how much it is told', () => {
    const base = ['--token-file', '/etc/tm/token', '--address', 'localhost:50051'];
    const gib2 = 2048 * 1024 * 1024;
    expect(run(base).cache).toEqual({
      dir: '/home/agent/.cache/tm-agent/localhost_50051',
      maxBytes: gib2,
    });
    expect(run(base, { env: { XDG_CACHE_HOME: '/var/cache' } }).cache?.dir).toBe(
      '/var/cache/tm-agent/localhost_50051',
    );
    expect(run([...base, '--cache-dir', 'c', '--cache-mb', '10']).cache).toEqual({
      dir: '/srv/agent/c',
      maxBytes: 10 * 1024 * 1024,
    });
    expect(run(base, { env: { TM_CACHE_DIR: '/tmp/c', TM_CACHE_MB: '1' } }).cache).toEqual({
      dir: '/tmp/c',
      maxBytes: 1024 * 1024,
    });
    expect(run([...base, '--cache-mb', '0']).cache).toBeNull();
    // Without a home and a dir, the agent runs uncached rather than not at all.
    expect(run([...base, '--key-file', '/k.pem'], { homeDir: '' }).cache).toBeNull();
    expect(
      run([...base, '--key-file', '/k.pem', '--cache-dir', '/c'], { homeDir: '' }).cache?.dir,
    ).toBe('/c');
    expect(errorOf([...base, '--cache-mb', '-1'])).toBe(
      '--cache-mb: expected an integer from 0 to 16777216, got -1',
    );
    expect(errorOf([...base, '--cache-mb', 'lots'])).toMatch(/^--cache-mb: expected an integer/);
  });

  it('reads and trims a token file, relative to the cwd', () => {
    expect(run(['--address', 'h:1', '--token-file', '/etc/tm/token']).token).toBe(TOKEN);
    expect(errorOf(['--address', 'h:1', '--token-file', 'missing'])).toBe(
      '--token-file: cannot read /srv/agent/missing',
    );
    expect(errorOf(['--address', 'h:1', '--token-file', '/etc/tm/empty'])).toMatch(/is empty/);
  });

  it('parses an IPv6 address and listens on the bare host', () => {
    const options = run(['--address', '[::1]:50051', '--token-file', '/etc/tm/token']);
    expect(options.listenHost).toBe('::1');
    expect(options.listenPort).toBe(50051);
  });

  it('asks for the version, whatever else is given', () => {
    expect(parseArgs(['--version'], io()).kind).toBe('version');
    expect(parseArgs(['--config', '/nowhere.toml', '--version'], io()).kind).toBe('version');
  });

  it('shows help', () => {
    const parsed = parseArgs(['--help'], io());
    expect(parsed.kind).toBe('help');
    expect(parsed.kind === 'help' && parsed.text).toMatch(/--control-plane URL/);
    expect(parsed.kind === 'help' && parsed.text).toMatch(/--key-file FILE .*TM_AGENT_KEY_FILE/);
  });

  it('requires a token, and never takes it from argv', () => {
    expect(errorOf(['--address', 'localhost:50051'])).toBe(
      'a join token is required: --token-file FILE, TM_JOIN_TOKEN, or token_file in the --config file',
    );
    expect(errorOf(['--address', 'h:1'], { env: { TM_JOIN_TOKEN: '   ' } })).toMatch(
      /join token is required/,
    );
    for (const argv of [
      ['--address', 'h:1', '--token', TOKEN],
      ['--address', 'h:1', `--token=${TOKEN}`],
    ]) {
      const message = errorOf(argv);
      expect(message).toMatch(/^--token is not accepted: .*--token-file FILE, TM_JOIN_TOKEN/);
      expect(message).not.toContain(TOKEN);
    }
  });

  it('takes --token-file over TM_JOIN_TOKEN, and hides only a token file from tasks', () => {
    const both = run(['--address', 'h:1', '--token-file', '/etc/tm/token'], {
      env: { TM_JOIN_TOKEN: 'tm_join_from-env' },
    });
    expect(both.token).toBe(TOKEN);
    expect(both.secretPaths).toContain('/etc/tm/token');
    const fromEnv = run(['--address', 'h:1'], { env: { TM_JOIN_TOKEN: ' tm_join_from-env\n' } });
    expect(fromEnv.token).toBe('tm_join_from-env');
    expect(errorOf(['--address', 'h:1'], { env: { TM_JOIN_TOKEN: 'two words' } })).toBe(
      'the join token must not contain whitespace',
    );
  });

  it('rejects bad addresses', () => {
    expect(errorOf(['--token-file', '/etc/tm/token'])).toMatch(/--address HOST:PORT is required/);
    expect(errorOf(['--token-file', '/etc/tm/token', '--address', 'localhost'])).toMatch(
      /--address: expected host:port/,
    );
    expect(errorOf(['--token-file', '/etc/tm/token', '--address', 'localhost:70000'])).toMatch(
      /port must be 1..65535/,
    );
    expect(errorOf(['--token-file', '/etc/tm/token', '--address', 'http://x:1'])).toMatch(
      /--address/,
    );
  });

  it('rejects bad slots, grace periods, URLs and work dirs', () => {
    const base = ['--token-file', '/etc/tm/token', '--address', 'h:1'];
    expect(errorOf([...base, '--slots', '0'])).toMatch(
      /--slots: expected an integer from 1 to 1024, got 0/,
    );
    expect(errorOf([...base, '--slots', 'many'])).toMatch(/--slots/);
    expect(errorOf([...base, '--slots', '2.5'])).toMatch(/--slots/);
    expect(errorOf([...base, '--slots', '5000'])).toMatch(/--slots/);
    expect(errorOf([...base, '--kill-grace-ms', '-1'])).toMatch(/--kill-grace-ms/);
    expect(errorOf([...base, '--data-port', '70000'])).toMatch(
      /--data-port: expected an integer from 0 to 65535, got 70000/,
    );
    expect(errorOf([...base, '--control-plane', 'ftp://x'])).toMatch(/http, https, ws or wss/);
    expect(errorOf([...base, '--control-plane', 'not a url'])).toMatch(/not a URL/);
    expect(errorOf([...base, '--work-dir', '/nope'])).toBe(
      '--work-dir: /nope is not an existing directory',
    );
    expect(errorOf([...base, '--slots'])).toBe('--slots needs a value');
    expect(errorOf([...base, '--slots', '1', '--slots', '2'])).toMatch(/more than once/);
    expect(errorOf([...base, '--bogus'])).toBe('unknown option --bogus');
  });

  it('never quotes the token in an error', () => {
    const withToken = { env: { TM_JOIN_TOKEN: TOKEN } };
    const cases: [string[], Partial<ArgsEnvironment>][] = [
      [['--address', 'h:1', TOKEN], withToken],
      [[TOKEN], {}],
      [['--address', TOKEN], withToken],
      [['--address', `${TOKEN}:99999`], withToken],
      [['--address', 'h:1', '--work-dir', TOKEN], withToken],
      [['--address', 'h:1', '--control-plane', TOKEN], withToken],
      [['--address', 'h:1', '--token', TOKEN], {}],
      [['--address', 'h:1', '--config', '/etc/tm/agent.toml', '--slots', TOKEN], withToken],
    ];
    for (const [argv, env] of cases) {
      const message = errorOf(argv, env);
      expect(message.length).toBeGreaterThan(0);
      expect(message).not.toContain(TOKEN);
    }
  });

  it('reads a CA file and a client certificate, from options or the environment', () => {
    const base = ['--token-file', '/etc/tm/token', '--address', 'h:1'];
    const plain = run(base);
    expect('ca' in plain || 'clientCert' in plain).toBe(false);
    expect(run([...base, '--ca-file', '.tm/tls/ca.pem']).ca).toBe(CA);
    expect(run(base, { env: { TM_CA_FILE: '/srv/agent/.tm/tls/ca.pem' } }).ca).toBe(CA);
    expect(run(base, { env: { TM_CA_FILE: '' } }).ca).toBeUndefined();
    const withCert = [
      ...base,
      '--client-cert',
      '/etc/tm/client.pem',
      '--client-key=/etc/tm/client-key.pem',
    ];
    expect(run(withCert).clientCert).toEqual({ cert: CA, key: KEY });
    expect(
      run(base, {
        env: { TM_CLIENT_CERT: '/etc/tm/client.pem', TM_CLIENT_KEY: '/etc/tm/ec-key.pem' },
      }).clientCert?.key,
    ).toMatch(/EC PRIVATE KEY/);
    expect(parseArgs(['--help'], io()).kind === 'help' && USAGE).toMatch(
      /--ca-file FILE[\s\S]*TM_CA_FILE[\s\S]*--client-cert FILE[\s\S]*--client-key FILE/,
    );
  });

  it('rejects TLS files it cannot use, without quoting them', () => {
    const base = ['--token-file', '/etc/tm/token', '--address', 'h:1'];
    expect(errorOf([...base, '--ca-file', 'nope.pem'])).toBe(
      '--ca-file: cannot read /srv/agent/nope.pem',
    );
    expect(errorOf([...base, '--ca-file', '/etc/tm/client-key.pem'])).toBe(
      '--ca-file: /etc/tm/client-key.pem does not hold a PEM certificate',
    );
    expect(errorOf([...base, '--client-cert', '/etc/tm/client.pem'])).toBe(
      'give --client-cert and --client-key together',
    );
    expect(errorOf([...base], { env: { TM_CLIENT_KEY: '/etc/tm/client-key.pem' } })).toBe(
      'give --client-cert and --client-key together',
    );
    const wrongKey = errorOf([
      ...base,
      '--client-cert',
      '/etc/tm/client.pem',
      '--client-key',
      '/etc/tm/client.pem',
    ]);
    expect(wrongKey).toBe('--client-key: /etc/tm/client.pem does not hold a PEM private key');
    expect(wrongKey).not.toContain('MIIB');
  });
});

describe('describeTlsFailure', () => {
  const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('names an untrusted certificate and the option that fixes it', () => {
    const error = failure(
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'unable to verify the first certificate',
    );
    expect(describeTlsFailure(error, false)).toBe(
      "the control plane's TLS certificate is not trusted (unable to verify the first certificate); pass --ca-file (or TM_CA_FILE) with the CA that signed it",
    );
    expect(describeTlsFailure(error, true)).toMatch(/not signed by the CA in --ca-file/);
    expect(describeTlsFailure(failure('SELF_SIGNED_CERT_IN_CHAIN', 'x'), false)).toMatch(
      /not trusted/,
    );
  });

  it('names expired certificates, wrong hosts and plain servers; nothing else', () => {
    expect(
      describeTlsFailure(failure('CERT_HAS_EXPIRED', 'certificate has expired'), true),
    ).toMatch(/not valid now/);
    expect(describeTlsFailure(failure('ERR_TLS_CERT_ALTNAME_INVALID', 'x'), true)).toMatch(
      /does not name the host/,
    );
    expect(describeTlsFailure(failure('ERR_SSL_WRONG_VERSION_NUMBER', 'x'), false)).toMatch(
      /does not speak TLS/,
    );
    expect(
      describeTlsFailure(failure('ECONNREFUSED', 'connect ECONNREFUSED'), false),
    ).toBeUndefined();
    expect(describeTlsFailure(new Error('no code'), false)).toBeUndefined();
    expect(describeTlsFailure(null, false)).toBeUndefined();
  });
});

describe('parseArgs: executors', () => {
  const base = ['--token-file', '/etc/tm/token', '--address', 'h:1'];
  const executors = (argv: string[], env: Record<string, string> = {}) =>
    run([...base, ...argv], { env }).executors;

  it('has none unless told', () => {
    expect(executors([])).toEqual({});
  });

  it('takes --executor NAME and NAME=PROGRAM, repeated, programs relative to the cwd', () => {
    expect(
      executors([
        '--executor',
        'wget=bin/fake-wget',
        '--executor=tesseract',
        '--executor',
        'ffmpeg=/usr/bin/wget',
      ]),
    ).toEqual({ wget: '/srv/agent/bin/fake-wget', tesseract: null, ffmpeg: '/usr/bin/wget' });
  });

  it('reads a JSON file of names to programs, beside the flags', () => {
    expect(executors(['--executors-file', '/etc/tm/executors.json', '--executor', 'sh'])).toEqual({
      sh: null,
      wget: null,
      tesseract: '/opt/tess/bin/tesseract',
    });
  });

  it('reads TM_EXECUTORS only when no option names executors', () => {
    expect(executors([], { TM_EXECUTORS: 'wget, tesseract=/opt/tess/bin/tesseract,' })).toEqual({
      wget: null,
      tesseract: '/opt/tess/bin/tesseract',
    });
    expect(executors(['--executor', 'sh'], { TM_EXECUTORS: 'wget' })).toEqual({ sh: null });
  });

  it('refuses bad names, repeats, missing programs and bad files, saying which', () => {
    const error = (argv: string[], env: Record<string, string> = {}) =>
      errorOf([...base, ...argv], { env });
    expect(error(['--executor', 'Bad Name'])).toBe(
      '--executor: "Bad Name" is not an executor name (a-z, 0-9, ., +, - and _)',
    );
    expect(error(['--executor', 'wget', '--executor', 'wget=/usr/bin/wget'])).toBe(
      '--executor: executor wget given twice',
    );
    expect(error(['--executor', 'wget=/usr/bin/nope'])).toBe(
      '--executor: /usr/bin/nope (executor wget) is not an executable file',
    );
    expect(error(['--executor', 'wget='])).toBe(
      '--executor: executor wget has an empty program path',
    );
    expect(error(['--executor'])).toBe('--executor needs a value');
    expect(error([], { TM_EXECUTORS: 'ok,no way' })).toMatch(/^TM_EXECUTORS: "no way" is not/);
    expect(error(['--executors-file', 'missing.json'])).toBe(
      '--executors-file /srv/agent/missing.json cannot be read',
    );
    expect(error(['--executors-file', 'broken.json'])).toBe(
      '--executors-file /srv/agent/broken.json is not JSON',
    );
    expect(error(['--executors-file', 'list.json'])).toMatch(
      /expected an object of executor names/,
    );
    expect(error(['--executors-file', 'odd.json'])).toMatch(
      /the program of wget must be a path or null/,
    );
    const many = Array.from({ length: 65 }, (_, i) => ['--executor', `e${i}`]).flat();
    expect(error(many)).toBe('at most 64 executors, got 65');
  });
});

describe('--print-fingerprint', () => {
  const keyFileOf = (argv: string[], env: Partial<ArgsEnvironment> = {}) => {
    const parsed = parseArgs(['--print-fingerprint', ...argv], io(env));
    if (parsed.kind !== 'fingerprint') throw new Error(`expected fingerprint, got ${parsed.kind}`);
    return parsed.keyFile;
  };

  it('names the key file the agent would use, with no token or work dir needed', () => {
    expect(keyFileOf(['--address', 'vm1:50051'])).toBe(
      '/home/agent/.local/state/tm-agent/vm1_50051/agent-key.pem',
    );
    expect(keyFileOf(['--key-file', 'keys/agent.pem'])).toBe('/srv/agent/keys/agent.pem');
    expect(keyFileOf([], { env: { TM_AGENT_KEY_FILE: '/var/lib/tm-agent/key.pem' } })).toBe(
      '/var/lib/tm-agent/key.pem',
    );
  });

  it('needs an address or a key file', () => {
    expect(errorOf(['--print-fingerprint'])).toBe(
      '--print-fingerprint needs --address HOST:PORT or --key-file FILE',
    );
    expect(errorOf(['--print-fingerprint', '--address', 'no-port'])).toMatch(/^--address: /);
  });
});
