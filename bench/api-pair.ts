/**
 * The API loop of bench/engine.ts (create → start → wait → remove over the unix socket), against
 * two or more engines at once, one container at a time, taking turns: a cycle on A, then on B,
 * … (the first engine of each round rotates). This VM's speed drifts by ±20% within minutes,
 * more than most changes to measure; two builds compared in alternating cycles meet the same
 * drift. Prints the mean milliseconds per phase and per container for each engine. A benchmark,
 * not a test: it asserts nothing.
 *
 *   node --import tsx bench/api-pair.ts N SOCKET_A SOCKET_B [...]
 *
 * Each engine must serve the image `busybox` (scripts/busybox-image.ts --data-root …); start
 * them with scripts/berthd.sh and private roots (BERTH_DATA_ROOT, BERTH_EXEC_ROOT, BERTH_HOST),
 * e.g. one from this checkout and one from a copy of an earlier build (dist/ and native/build/
 * side by side, node_modules linked). The engines also serve each other's cycles' load; what is
 * compared is the difference, which is only meaningful between runs with the sockets swapped.
 */
import http from 'node:http';

const [nArg, ...sockets] = process.argv.slice(2);
const N = Number(nArg);
if (!Number.isInteger(N) || N < 1 || sockets.length < 1) {
  process.stderr.write('usage: node --import tsx bench/api-pair.ts N SOCKET [SOCKET...]\n');
  process.exit(2);
}
const WARMUP = 10;
const PHASES = ['create', 'start', 'wait', 'remove'] as const;

const agents = sockets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));

function call(k: number, method: string, path: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath: sockets[k],
        method,
        path,
        agent: agents[k],
        headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`${sockets[k]}: ${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const body = { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } };
const totals = sockets.map(() => ({ create: 0, start: 0, wait: 0, remove: 0 }));

async function cycle(k: number, timed: boolean): Promise<void> {
  const t = [performance.now()];
  const { Id } = (await call(k, 'POST', '/containers/create', body)) as { Id: string };
  t.push(performance.now());
  await call(k, 'POST', `/containers/${Id}/start`);
  t.push(performance.now());
  await call(k, 'POST', `/containers/${Id}/wait`);
  t.push(performance.now());
  await call(k, 'DELETE', `/containers/${Id}`);
  t.push(performance.now());
  if (timed) for (const [i, p] of PHASES.entries()) totals[k]![p] += t[i + 1]! - t[i]!;
}

for (let i = 0; i < WARMUP; i++) for (let k = 0; k < sockets.length; k++) await cycle(k, false);
for (let i = 0; i < N; i++) for (let j = 0; j < sockets.length; j++) await cycle((i + j) % sockets.length, true);
for (const [k, s] of sockets.entries()) {
  const t = totals[k]!;
  const all = PHASES.reduce((a, p) => a + t[p], 0);
  process.stdout.write(
    `${s}: ${(all / N).toFixed(2)} ms per container (${PHASES.map((p) => `${p} ${(t[p] / N).toFixed(2)}`).join(', ')})\n`,
  );
}
for (const a of agents) a.destroy();
