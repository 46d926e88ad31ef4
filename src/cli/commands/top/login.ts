/**
 * `berth login`: POST /auth with the credentials (flags, --password-stdin, stored ones, or asked
 * on the terminal), then stored in config.json or its credential helper exactly as `docker login`
 * stores them, so the two CLIs share logins.
 */
import { ApiError } from '../../../client/types.js';
import { DOCKER_HUB_KEY, dockerConfigCredentials, keyHostname, storeCredentials } from '../../../distribution/credentials.js';
import type { AuthConfig } from '../../../distribution/types.js';
import { readLine, readPassword } from '../../prompt.js';
import { type CliContext, CliError, type CommandSpec } from '../../types.js';

const UNENCRYPTED_WARNING = (path: string) =>
  `\nWARNING! Your credentials are stored unencrypted in '${path}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

interface AuthResponse {
  Status?: string;
  IdentityToken?: string;
}

/** The /auth body: Go's AuthConfig with its empty fields left out. */
function authBody(auth: AuthConfig, serverAddress: string): Record<string, string> {
  const b: Record<string, string> = {};
  if (auth.username) b.username = auth.username;
  if (auth.password) b.password = auth.password;
  b.serveraddress = serverAddress;
  if (auth.identityToken) b.identitytoken = auth.identityToken;
  return b;
}

async function loginAndStore(ctx: CliContext, auth: AuthConfig, serverAddress: string): Promise<string> {
  const client = await ctx.client();
  const res = await client.json<AuthResponse>('POST', '/auth', { body: authBody(auth, serverAddress) });
  const stored: AuthConfig = { ...auth };
  if (res.body?.IdentityToken) {
    // The registry gave a refresh token: it is kept instead of the password.
    stored.password = '';
    stored.identityToken = res.body.IdentityToken;
  }
  let where: Awaited<ReturnType<typeof storeCredentials>>;
  try {
    where = await storeCredentials({ configDir: ctx.configDir, env: ctx.env }, serverAddress, stored);
  } catch (err) {
    throw new CliError(
      (err as Error).message.startsWith('Error saving credentials')
        ? (err as Error).message
        : `Error saving credentials: ${(err as Error).message}`,
    );
  }
  // Docker warns when a password (not a token) goes into the file, and only when it changed.
  if (!where.helper && where.changed && stored.password) ctx.stderr.write(UNENCRYPTED_WARNING(where.path));
  return res.body?.Status ?? '';
}

export const login: CommandSpec = {
  name: 'login',
  usage: 'login [OPTIONS] [SERVER]',
  short: 'Authenticate to a registry',
  long: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
  args: { max: 1 },
  flags: [
    { name: 'password', short: 'p', kind: 'string', usage: 'Password or Personal Access Token (PAT)' },
    { name: 'password-stdin', kind: 'bool', usage: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { name: 'username', short: 'u', kind: 'string', usage: 'Username' },
  ],
  async run(ctx, inv) {
    let user = inv.flags.string('username');
    let password = inv.flags.string('password');
    const passwordStdin = inv.flags.bool('password-stdin');
    if (password && passwordStdin) throw new CliError('conflicting options: cannot specify both --password and --password-stdin');
    if (password) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (passwordStdin) {
      if (!user) throw new CliError('the --password-stdin option requires --username to be set');
      const chunks: Buffer[] = [];
      for await (const c of ctx.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
      password = Buffer.concat(chunks).toString('utf8').replace(/\n$/, '').replace(/\r$/, '');
    }
    const given = inv.args[0] ?? '';
    const serverAddress = given && given !== 'docker.io' ? keyHostname(given) : DOCKER_HUB_KEY;
    const host = serverAddress === DOCKER_HUB_KEY ? 'docker.io' : serverAddress;

    // No credentials given: try the stored ones first, as docker does.
    if (!user && !password) {
      const storedAuth = await dockerConfigCredentials({ configDir: ctx.configDir, env: ctx.env })
        .get(host)
        .catch(() => undefined);
      if (storedAuth?.username && storedAuth.password) {
        ctx.stderr.write(`Authenticating with existing credentials... [Username: ${storedAuth.username}]\n`);
        try {
          const status = await loginAndStore(ctx, storedAuth, serverAddress);
          ctx.stderr.write(`\n Info -> To login with a different account, run '${ctx.prog} logout' followed by '${ctx.prog} login'\n\n\n`);
          if (status) ctx.stdout.write(`${status}\n`);
          return 0;
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          ctx.stderr.write(
            err.status === 401
              ? 'Stored credentials invalid or expired\n'
              : `Login did not succeed, error: Error response from daemon: ${err.message}\n`,
          );
        }
        user = user || storedAuth.username;
      }
    }
    if (!user || !password) {
      if (!ctx.stdin.isTTY) throw new CliError('Error: Cannot perform an interactive login from a non TTY device');
      if (!inv.flags.string('username')) {
        ctx.stdout.write(user ? `Username (${user}): ` : 'Username: ');
        const typed = ((await readLine(ctx.stdin)) ?? '').trim();
        user = typed || user;
        if (!user) throw new CliError('Error: Non-null Username Required');
      }
      if (!password) {
        ctx.stdout.write('Password: ');
        password = (await readPassword(ctx)) ?? '';
        if (!password) throw new CliError('Error: Password Required');
      }
    }
    const status = await loginAndStore(ctx, { username: user, password }, serverAddress);
    if (status) ctx.stdout.write(`${status}\n`);
    return 0;
  },
};
