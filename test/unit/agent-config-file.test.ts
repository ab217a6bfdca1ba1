/** tm-agent --config: TOML and JSON files, flags > environment > file > defaults, and each refusal. */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../worker-agent/args.ts';
import type { AgentOptions, ArgsEnvironment } from '../../worker-agent/args.ts';
import { ConfigError } from '../../worker-agent/config-file.ts';

const TOKEN = 'tm_join_c0nfig-token';
const FULL_TOML = `
control_plane = "https://tm.example.com"
token_file = "join-token"          # relative paths are the config folder's
address = "vm1.internal:50051"
slots = 3
data_port = 7070
work_dir = "/srv/jobs"
commands = false
kill_grace_ms = 750
store_timeout_ms = 4000
executors = ["wget", "tesseract=bin/tesseract"]
key_file = "/var/lib/tm-agent/agent-key.pem"
cache_dir = "/var/cache/tm-agent"
cache_mb = 64
isolation = "bwrap"
allow_task_network = true
log_format = "json"
`;

function io(files: Record<string, string>, env: ArgsEnvironment['env'] = {}): ArgsEnvironment {
  return {
    env,
    cwd: '/home/op',
    defaultSlots: 8,
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    isDirectory: (path) => ['/home/op', '/srv/jobs', '/etc/tm'].includes(path),
    isExecutable: (path) => path === '/etc/tm/bin/tesseract',
    homeDir: '/home/op',
  };
}

function run(argv: string[], files: Record<string, string>, env: ArgsEnvironment['env'] = {}) {
  const parsed = parseArgs(argv, io(files, env));
  if (parsed.kind !== 'run') throw new Error(`expected run options, got ${parsed.kind}`);
  return parsed.options;
}

/** The ConfigError a parse must throw. */
function refusal(argv: string[], files: Record<string, string>, env: ArgsEnvironment['env'] = {}) {
  try {
    parseArgs(argv, io(files, env));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the parse to fail');
}

const withToml = (text: string) => ({ '/etc/tm/agent.toml': text, '/etc/tm/join-token': TOKEN });
const TOML = ['--config', '/etc/tm/agent.toml'];

describe('tm-agent --config', () => {
  it('reads every setting from a TOML file, paths from its folder', () => {
    const options = run(TOML, withToml(FULL_TOML));
    expect(options).toEqual<AgentOptions>({
      connectUrl: 'wss://tm.example.com/v1/agent/connect',
      token: TOKEN,
      address: 'vm1.internal:50051',
      listenHost: 'vm1.internal',
      listenPort: 50051,
      dataPort: 7070,
      slots: 3,
      workDir: '/srv/jobs',
      acceptsCommands: false,
      killGraceMs: 750,
      storeTimeoutMs: 4000,
      executors: { wget: null, tesseract: '/etc/tm/bin/tesseract' },
      keyFile: '/var/lib/tm-agent/agent-key.pem',
      cache: { dir: '/var/cache/tm-agent', maxBytes: 64 * 1024 * 1024 },
      isolation: 'bwrap',
      taskNetwork: true,
      logFormat: 'json',
      secretPaths: ['/var/lib/tm-agent/agent-key.pem', '/etc/tm/join-token', '/var/cache/tm-agent'],
    });
  });

  it('reads the same keys from a JSON file', () => {
    const json = JSON.stringify({
      address: 'h:1',
      token_file: '/etc/tm/join-token',
      slots: 2,
      executors_file: 'executors.json',
    });
    const options = run(['--config', '/etc/tm/agent.json'], {
      '/etc/tm/agent.json': json,
      '/etc/tm/join-token': TOKEN,
      '/etc/tm/executors.json': '{"wget": null}',
    });
    expect(options.slots).toBe(2);
    expect(options.token).toBe(TOKEN);
    expect(options.executors).toEqual({ wget: null });
  });

  it('lets flags, then the environment, override the file, and the file the defaults', () => {
    const files = {
      ...withToml(FULL_TOML),
      '/home/op/other-token': 'tm_join_from-flag',
      '/etc/tm/ca.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    };
    const flags = run([...TOML, '--slots', '5', '--token-file', 'other-token'], files, {
      TM_CONTROL_PLANE: 'http://10.0.0.1:8787',
      TM_CACHE_MB: '0',
      TM_ISOLATION: 'none',
      TM_EXECUTORS: 'sh',
      TM_CA_FILE: '/etc/tm/ca.pem',
    });
    expect(flags.slots).toBe(5);
    expect(flags.token).toBe('tm_join_from-flag');
    expect(flags.connectUrl).toBe('ws://10.0.0.1:8787/v1/agent/connect');
    expect(flags.cache).toBeNull();
    expect(flags.isolation).toBe('none');
    expect(flags.executors).toEqual({ sh: null });
    expect(flags.ca).toMatch(/BEGIN CERTIFICATE/);
    // Untouched by flags and environment: the file's.
    expect(flags.killGraceMs).toBe(750);
    expect(flags.workDir).toBe('/srv/jobs');
    expect(run([...TOML, '--executor', 'ffmpeg'], files).executors).toEqual({ ffmpeg: null });
    // TM_JOIN_TOKEN beats the file's token_file, and the file is then not read or hidden.
    const envToken = run(TOML, { '/etc/tm/agent.toml': FULL_TOML }, { TM_JOIN_TOKEN: 'tm_join_e' });
    expect(envToken.token).toBe('tm_join_e');
    expect(envToken.secretPaths).not.toContain('/etc/tm/join-token');
    // An empty variable counts as unset.
    expect(run(TOML, files, { TM_ISOLATION: '' }).isolation).toBe('bwrap');
    const minimal = run(TOML, withToml('address = "h:1"\ntoken_file = "join-token"\n'));
    expect(minimal).toMatchObject({ slots: 8, killGraceMs: 5000, isolation: 'auto' });
    expect(minimal.acceptsCommands).toBe(true);
  });

  it('gives --print-fingerprint the key file the config names', () => {
    const parsed = parseArgs(['--print-fingerprint', ...TOML], io(withToml(FULL_TOML)));
    expect(parsed).toEqual({ kind: 'fingerprint', keyFile: '/var/lib/tm-agent/agent-key.pem' });
    const byAddress = parseArgs(
      ['--print-fingerprint', ...TOML],
      io(withToml('address = "vm1:50051"\n')),
    );
    expect(byAddress).toEqual({
      kind: 'fingerprint',
      keyFile: '/home/op/.local/state/tm-agent/vm1_50051/agent-key.pem',
    });
  });

  it('refuses an unknown key, naming it and the file', () => {
    expect(refusal(TOML, withToml('address = "h:1"\nslot = 4\n'))).toBe(
      '/etc/tm/agent.toml: unknown key slot',
    );
    expect(refusal(TOML, withToml('address = "h:1"\n[tls]\nca_file = "x"\n'))).toBe(
      '/etc/tm/agent.toml: unknown key tls',
    );
  });

  it('refuses a wrong type or value, naming the key', () => {
    const cases: [string, string][] = [
      ['slots = "4"', 'slots: expected an integer from 1 to 1024, got a string'],
      ['slots = 0', 'slots: expected an integer from 1 to 1024, got 0'],
      ['slots = 2.5', 'slots: expected an integer from 1 to 1024, got 2.5'],
      ['kill_grace_ms = -1', 'kill_grace_ms: expected an integer from 0 to 600000, got -1'],
      ['store_timeout_ms = 10', 'store_timeout_ms: expected an integer from 100 to 600000, got 10'],
      ['cache_mb = true', 'cache_mb: expected an integer from 0 to 16777216, got a boolean'],
      ['commands = "no"', 'commands: expected true or false, got a string'],
      ['allow_task_network = 1', 'allow_task_network: expected true or false, got 1'],
      ['isolation = "chroot"', 'isolation: expected bwrap, none or auto, got a string'],
      ['control_plane = "ftp://x"', 'control_plane: expected an http, https, ws or wss URL'],
      ['address = "h:99999"', 'address: port must be 1..65535'],
      ['work_dir = ""', 'work_dir: expected a path, got an empty string'],
      ['key_file = 1979-05-27', 'key_file: expected a path, got a date'],
      ['executors = "wget"', 'executors: expected a list, got a string'],
      ['executors = [1]', 'executors.0: expected NAME or NAME=PROGRAM, got 1'],
      ['[ca_file]\npath = "x"', 'ca_file: expected a path, got a table'],
    ];
    for (const [line, message] of cases) {
      expect(refusal(TOML, withToml(`token_file = "join-token"\n${line}\n`))).toBe(
        `/etc/tm/agent.toml: ${message}`,
      );
    }
    expect(refusal(TOML, withToml('slots = 0\ncommands = 1\nbogus = 2\n'))).toBe(
      '/etc/tm/agent.toml: slots: expected an integer from 1 to 1024, got 0; commands: expected true or false, got 1; unknown key bogus',
    );
  });

  it('refuses a join token written in the file, without quoting it', () => {
    const message = refusal(TOML, withToml(`address = "h:1"\ntoken = "${TOKEN}"\n`));
    expect(message).toMatch(/^\/etc\/tm\/agent\.toml: token: the join token is not read from/);
    expect(message).toMatch(/token_file/);
    expect(message).not.toContain(TOKEN);
  });

  it('refuses a file it cannot read or parse, or of another kind', () => {
    expect(refusal(TOML, {})).toBe('--config: cannot read /etc/tm/agent.toml');
    expect(refusal(['--config', 'agent.toml'], {})).toBe(
      '--config: cannot read /home/op/agent.toml',
    );
    expect(refusal(TOML, withToml('slots = \n'))).toBe(
      '/etc/tm/agent.toml: not valid TOML: invalid value (line 1, column 9)',
    );
    // The text at the fault is never quoted: it may be a secret typed in the wrong place.
    const quoted = refusal(['--config', '/etc/tm/a.json'], { '/etc/tm/a.json': `{"x": ${TOKEN}}` });
    expect(quoted).toMatch(/^\/etc\/tm\/a\.json: not valid JSON/);
    expect(quoted).not.toContain(TOKEN);
    expect(refusal(['--config', '/etc/tm/a.json'], { '/etc/tm/a.json': '{"slots":' })).toMatch(
      /^\/etc\/tm\/a\.json: not valid JSON( \(at character \d+\))?$/,
    );
    expect(refusal(['--config', '/etc/tm/a.json'], { '/etc/tm/a.json': '[1]' })).toBe(
      '/etc/tm/a.json: expected a JSON object of settings',
    );
    expect(refusal(['--config', '/etc/tm/agent.yaml'], { '/etc/tm/agent.yaml': '' })).toBe(
      '/etc/tm/agent.yaml: a config file is .toml or .json, got ".yaml"',
    );
  });

  it('makes every refusal of a configured start a ConfigError (exit 78), even a flag or a path', () => {
    const files = withToml('address = "h:1"\ntoken_file = "join-token"\n');
    expect(refusal([...TOML, '--slots', '0'], files)).toMatch(/^--slots: expected an integer/);
    expect(refusal([...TOML, '--bogus'], files)).toBe('unknown option --bogus');
    expect(refusal(TOML, withToml('address = "h:1"\ntoken_file = "nope"\n'))).toBe(
      '--token-file: cannot read /etc/tm/nope',
    );
    expect(
      refusal(TOML, withToml('address = "h:1"\nwork_dir = "/nope"\n'), { TM_JOIN_TOKEN: TOKEN }),
    ).toBe('--work-dir: /nope is not an existing directory');
    // Without --config, a bad option stays a usage error (exit 2).
    let plain: unknown;
    try {
      parseArgs(['--bogus'], io({}));
    } catch (error) {
      plain = error;
    }
    expect(plain).toBeInstanceOf(Error);
    expect(plain).not.toBeInstanceOf(ConfigError);
  });
});
