/** tm-agent's option parser: defaults, environment, and clear errors that never quote the token. */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../worker-agent/args.ts';
import type { ArgsEnvironment } from '../../worker-agent/args.ts';

const TOKEN = 'tm_join_s3cr3t-token';

function io(overrides: Partial<ArgsEnvironment> = {}): ArgsEnvironment {
  return {
    env: {},
    cwd: '/srv/agent',
    defaultSlots: 8,
    readFile: (path) => {
      if (path === '/etc/tm/token') return `${TOKEN}\n`;
      if (path === '/etc/tm/empty') return '  \n';
      throw new Error(`ENOENT: ${path}`);
    },
    isDirectory: (path) => ['/srv/agent', '/srv/agent/jobs', '/data'].includes(path),
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
      '--token',
      TOKEN,
      '--address',
      'worker-1.internal:50051',
      '--slots',
      '4',
      '--work-dir',
      'jobs',
      '--no-commands',
      '--kill-grace-ms=250',
      '--store-timeout-ms',
      '2000',
      '--key-file',
      'keys/agent.pem',
    ]);
    expect(options).toEqual({
      connectUrl: 'wss://tm.example.com/base/v1/agent/connect',
      token: TOKEN,
      address: 'worker-1.internal:50051',
      listenHost: 'worker-1.internal',
      listenPort: 50051,
      slots: 4,
      workDir: '/srv/agent/jobs',
      acceptsCommands: false,
      killGraceMs: 250,
      storeTimeoutMs: 2000,
      keyFile: '/srv/agent/keys/agent.pem',
    });
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
    expect(
      run(['--address', 'localhost:1'], {
        env: { TM_JOIN_TOKEN: TOKEN, TM_STORE_TIMEOUT_MS: '500' },
      }).storeTimeoutMs,
    ).toBe(500);
    expect(run(['--address', 'localhost:1', '--token', 'tok-abc123']).connectUrl).toBe(
      'ws://localhost:8080/v1/agent/connect',
    );
  });

  it('keeps the key file under the XDG state dir, one per address, unless told otherwise', () => {
    const base = ['--token', 'tok-abc123'];
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

  it('reads and trims a token file, relative to the cwd', () => {
    expect(run(['--address', 'h:1', '--token-file', '/etc/tm/token']).token).toBe(TOKEN);
    expect(errorOf(['--address', 'h:1', '--token-file', 'missing'])).toBe(
      '--token-file: cannot read /srv/agent/missing',
    );
    expect(errorOf(['--address', 'h:1', '--token-file', '/etc/tm/empty'])).toMatch(/is empty/);
  });

  it('parses an IPv6 address and listens on the bare host', () => {
    const options = run(['--address', '[::1]:50051', '--token', 'tok-abc123']);
    expect(options.listenHost).toBe('::1');
    expect(options.listenPort).toBe(50051);
  });

  it('shows help', () => {
    const parsed = parseArgs(['--help'], io());
    expect(parsed.kind).toBe('help');
    expect(parsed.kind === 'help' && parsed.text).toMatch(/--control-plane URL/);
    expect(parsed.kind === 'help' && parsed.text).toMatch(/--key-file FILE .*TM_AGENT_KEY_FILE/);
  });

  it('requires a token', () => {
    expect(errorOf(['--address', 'localhost:50051'])).toMatch(/join token is required/);
    expect(errorOf(['--address', 'localhost:50051', '--token', '   '])).toMatch(
      /join token is required/,
    );
    expect(errorOf(['--address', 'h:1', '--token', 'a', '--token-file', '/etc/tm/token'])).toMatch(
      /either --token or --token-file/,
    );
  });

  it('rejects bad addresses', () => {
    expect(errorOf(['--token', 'tok-abc123'])).toMatch(/--address HOST:PORT is required/);
    expect(errorOf(['--token', 'tok-abc123', '--address', 'localhost'])).toMatch(
      /--address: expected host:port/,
    );
    expect(errorOf(['--token', 'tok-abc123', '--address', 'localhost:70000'])).toMatch(
      /port must be 1..65535/,
    );
    expect(errorOf(['--token', 'tok-abc123', '--address', 'http://x:1'])).toMatch(/--address/);
  });

  it('rejects bad slots, grace periods, URLs and work dirs', () => {
    const base = ['--token', 'tok-abc123', '--address', 'h:1'];
    expect(errorOf([...base, '--slots', '0'])).toMatch(
      /--slots: expected an integer from 1 to 1024, got 0/,
    );
    expect(errorOf([...base, '--slots', 'many'])).toMatch(/--slots/);
    expect(errorOf([...base, '--slots', '2.5'])).toMatch(/--slots/);
    expect(errorOf([...base, '--slots', '5000'])).toMatch(/--slots/);
    expect(errorOf([...base, '--kill-grace-ms', '-1'])).toMatch(/--kill-grace-ms/);
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
    const cases: [string[], Partial<ArgsEnvironment>][] = [
      [['--token', TOKEN, TOKEN, '--address', 'h:1'], {}],
      [[TOKEN], {}],
      [['--token', TOKEN, '--address', TOKEN], {}],
      [['--token', TOKEN, '--address', `${TOKEN}:99999`], {}],
      [['--token=' + TOKEN, '--address', 'h:1', '--work-dir', TOKEN], {}],
      [['--address', 'h:1', '--control-plane', TOKEN], { env: { TM_JOIN_TOKEN: TOKEN } }],
      [['--address', 'h:1', '--token', `${TOKEN} x`], {}],
    ];
    for (const [argv, env] of cases) {
      const message = errorOf(argv, env);
      expect(message.length).toBeGreaterThan(0);
      expect(message).not.toContain(TOKEN);
    }
  });
});
