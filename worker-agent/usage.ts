/** tm-agent's --help text. */
import {
  DEFAULT_CACHE_MB,
  DEFAULT_CONTROL_PLANE,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_STORE_TIMEOUT_MS,
} from './option-limits.ts';

export const USAGE = `Usage:
  tm-agent --address HOST:PORT --token-file FILE [options]
  tm-agent --config FILE [options]
  tm-agent --print-fingerprint (--address HOST:PORT | --key-file FILE | --config FILE)
  tm-agent --version

Runs tasks for a TM Scheduler control plane; dials out to it over WebSocket.

Each setting is taken from its option, else its environment variable, else the config file,
else its default.

Options:
  --config FILE         read settings from FILE, TOML (.toml) or JSON (.json): the options'
                        names in snake_case (control_plane, token_file, slots, commands = false,
                        executors = ["NAME=PROGRAM"], allow_task_network = true, ...); relative
                        paths are taken from FILE's folder; the join token is never written
                        in it. With --config, settings refused exit 78 (EX_CONFIG), not 2
  --control-plane URL   control plane URL, http(s) or ws(s) (env TM_CONTROL_PLANE;
                        default ${DEFAULT_CONTROL_PLANE})
  --token-file FILE     read the join token from FILE (else env TM_JOIN_TOKEN); never on argv
  --address HOST:PORT   address of this agent; /healthz and /metrics are served there (required)
  --slots N             concurrent command tasks (default: available CPUs)
  --data-port N         TCP port on the --address host where peer agents hand this agent's
                        stream tasks their records (default 0: any free port, announced)
  --work-dir DIR        directory command tasks run under (default: current directory)
  --no-commands         refuse command tasks
  --kill-grace-ms N     time between SIGTERM and SIGKILL on cancel or timeout
                        (default ${DEFAULT_KILL_GRACE_MS})
  --store-timeout-ms N  how long one object store request may go unanswered
                        (env TM_STORE_TIMEOUT_MS; default ${DEFAULT_STORE_TIMEOUT_MS})
  --executor NAME[=PROGRAM]
                        run pipeline steps of executor NAME; a command whose program is
                        NAME runs PROGRAM (default: NAME on the PATH); repeatable
  --executors-file FILE JSON object of executor names to programs (or null)
                        (without either option: env TM_EXECUTORS, a comma list of NAME[=PROGRAM])
  --key-file FILE       this agent's private key, made on first start (env TM_AGENT_KEY_FILE;
                        default $XDG_STATE_HOME/tm-agent/HOST_PORT/agent-key.pem, with
                        XDG_STATE_HOME defaulting to ~/.local/state)
  --cache-dir DIR       where input blocks read from object stores are cached for later jobs
                        (env TM_CACHE_DIR; default $XDG_CACHE_HOME/tm-agent/HOST_PORT, with
                        XDG_CACHE_HOME defaulting to ~/.cache; none without a home directory)
  --cache-mb N          most megabytes the cache holds, least recently used dropped first;
                        0 turns it off (env TM_CACHE_MB; default ${DEFAULT_CACHE_MB})
  --ca-file FILE        PEM CA certificate(s) to trust for wss, besides the system's
                        (env TM_CA_FILE; e.g. .tm/tls/ca.pem of \`tm up --tls\`)
  --client-cert FILE    PEM client certificate for a control plane behind mTLS, such as
                        Cloudflare API Shield's (env TM_CLIENT_CERT; with --client-key)
  --client-key FILE     its PEM private key (env TM_CLIENT_KEY)
  --isolation MODE      what command and pipeline tasks run in: bwrap (a bubblewrap sandbox;
                        refuse to start without it), none, or auto (bwrap if it works here,
                        else none with a warning) (env TM_ISOLATION; default auto)
  --log-format FORMAT   text (one readable line each) or json (one object each: time, level,
                        component, job, task, worker, message, …) (env TM_LOG_FORMAT;
                        default text)
  --allow-task-network  sandboxed tasks share this machine's network (default: they have
                        none, so a task cannot reach the control plane, the store or the
                        cloud's metadata service with anything it found)
  --print-fingerprint   print the fingerprint of this agent's key (making the key file if
                        there is none) and exit, without connecting: register the worker
                        with it (tm register-worker HOST:PORT --fingerprint SHA256:…)
  --help                show this help
`;
