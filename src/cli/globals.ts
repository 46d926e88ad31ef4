/** berth's global options (before the command), as the docker CLI's. */
import { configDirOf } from './contexts.js';
import type { FlagSpec } from './types.js';

export function globalFlags(env: NodeJS.ProcessEnv): FlagSpec[] {
  const cfg = configDirOf({ HOME: env.HOME });
  return [
    { name: 'config', kind: 'string', usage: 'Location of client config files', default: cfg },
    {
      name: 'context',
      short: 'c',
      kind: 'string',
      usage:
        'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "berth context use")',
    },
    { name: 'debug', short: 'D', kind: 'bool', usage: 'Enable debug mode' },
    { name: 'host', short: 'H', kind: 'list', usage: 'Daemon socket to connect to' },
    {
      name: 'log-level',
      short: 'l',
      kind: 'string',
      usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
      default: 'info',
    },
    { name: 'tls', kind: 'bool', usage: 'Use TLS; implied by --tlsverify' },
    { name: 'tlscacert', kind: 'string', usage: 'Trust certs signed only by this CA', default: `${cfg}/ca.pem` },
    { name: 'tlscert', kind: 'string', usage: 'Path to TLS certificate file', default: `${cfg}/cert.pem` },
    { name: 'tlskey', kind: 'string', usage: 'Path to TLS key file', default: `${cfg}/key.pem` },
    { name: 'tlsverify', kind: 'bool', usage: 'Use TLS and verify the remote' },
    { name: 'version', short: 'v', kind: 'bool', usage: 'Print version information and quit' },
  ];
}
