/**
 * The container endpoints over the engine's verbs (src/engine/containers/): create, start, stop,
 * kill, restart, pause/unpause, rename, wait, attach, resize, inspect, list, remove, exec.
 * Status codes as dockerd's (engine-api.md §A5, §A7): 201 create, 204 verbs, 304 start/stop of a
 * container already in that state, 200 resize (dockerode accepts nothing else).
 */
import { BerthError } from '../../common/errors.js';
import { attachContainer } from '../../engine/containers/attach.js';
import { createContainer } from '../../engine/containers/create.js';
import { createExec, type ExecConfig, type ExecStore, startExec } from '../../engine/containers/exec.js';
import { inspectContainer, listItem } from '../../engine/containers/inspect.js';
import { killContainer } from '../../engine/containers/kill.js';
import { listContainers } from '../../engine/containers/list.js';
import { pauseContainer, unpauseContainer } from '../../engine/containers/pause.js';
import type { ContainerRecord } from '../../engine/containers/record.js';
import { renameContainer } from '../../engine/containers/rename.js';
import { restartContainer } from '../../engine/containers/restart.js';
import { containerSizes } from '../../engine/containers/size.js';
import { startContainer } from '../../engine/containers/start.js';
import { stopContainer } from '../../engine/containers/stop.js';
import { parseCondition, waitContainer } from '../../engine/containers/wait.js';
import type { Engine } from '../../engine/engine.js';
import { lookupImage } from '../../engine/image-lookup.js';
import { imageSize } from '../../engine/image-size.js';
import { formatLogEntry, parseLogsQuery, readLogs } from '../../engine/logs/index.js';
import { ShimClient } from '../../engine/shim/client.js';
import type { Route } from '../types.js';

export interface ContainerDeps {
  engine: Engine;
  execs: ExecStore;
}

export function containerRoutes({ engine, execs }: ContainerDeps): Route[] {
  const inspect = (rec: ContainerRecord, size?: { SizeRw: number; SizeRootFs: number }) => {
    const dir = engine.containerDir(rec.Id);
    const out = inspectContainer(rec, {
      logPath: engine.logPath(rec.Id),
      hostnamePath: `${dir}/hostname`,
      hostsPath: `${dir}/hosts`,
      resolvConfPath: `${dir}/resolv.conf`,
      driver: engine.images.snapshotter.name === 'overlayfs' ? 'overlay2' : engine.images.snapshotter.name,
      ...(size ? { sizeRw: size.SizeRw, sizeRootFs: size.SizeRootFs } : {}),
    });
    out.ExecIDs = execs.forContainer(rec.Id).length ? execs.forContainer(rec.Id) : null;
    return out;
  };
  const timeout = (v: number | undefined) => v;
  /** SizeRw and SizeRootFs (size=1): src/engine/containers/size.ts */
  const sizes = (recs: ContainerRecord[]) =>
    containerSizes(engine.images.snapshotter, recs, (id) =>
      lookupImage(engine.images, id).then((l) => imageSize(engine.images.snapshotter, l.resolved.layers)),
    );

  return [
    {
      method: 'POST',
      path: '/containers/create',
      handler: async (req, res) => {
        const body = await req.json();
        const name = req.query.get('name') ?? '';
        res.json(await createContainer(engine, body, name || undefined), 201);
      },
    },
    {
      method: 'GET',
      path: '/containers/json',
      handler: async (req, res) => {
        const limit = req.int('limit');
        const recs = listContainers(engine.containers.all(), {
          all: req.bool('all'),
          ...(limit !== undefined ? { limit } : {}),
          filters: req.filters(),
          find: (r) => engine.containers.find(r),
        });
        const now = Date.now();
        const items = recs.map((r) => listItem(r, now));
        if (req.bool('size')) for (const [i, size] of (await sizes(recs)).entries()) Object.assign(items[i]!, size);
        res.json(items);
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/json',
      handler: async (req, res) => {
        const rec = engine.containers.get(req.params.id!);
        res.json(inspect(rec, req.bool('size') ? (await sizes([rec]))[0] : undefined));
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/start',
      handler: async (req, res) => {
        const r = await startContainer(engine, req.params.id!);
        res.empty(r === 'already-running' ? 304 : 204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/stop',
      handler: async (req, res) => {
        const r = await stopContainer(engine, req.params.id!, timeout(req.int('t')));
        res.empty(r === 'not-running' ? 304 : 204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/restart',
      handler: async (req, res) => {
        await restartContainer(engine, req.params.id!, timeout(req.int('t')));
        res.empty(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/kill',
      handler: async (req, res) => {
        await killContainer(engine, req.params.id!, req.query.get('signal') || 'KILL');
        res.empty(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/pause',
      handler: async (req, res) => {
        await pauseContainer(engine, req.params.id!);
        res.empty(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/unpause',
      handler: async (req, res) => {
        await unpauseContainer(engine, req.params.id!);
        res.empty(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/rename',
      handler: (req, res) => {
        renameContainer(engine, req.params.id!, req.query.get('name') ?? '');
        res.empty(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/wait',
      handler: async (req, res) => {
        // Registered before the headers go out: `docker run` sends start only after they arrive.
        const done = waitContainer(engine, req.params.id!, parseCondition(req.query.get('condition')), req.signal);
        const out = res.stream('application/json');
        const r = await done;
        out.end(`${JSON.stringify(r)}\n`);
      },
    },
    {
      method: 'DELETE',
      path: '/containers/{id}',
      handler: async (req, res) => {
        const id = engine.containers.get(req.params.id!).Id;
        await engine.remove(id, { force: req.bool('force'), volumes: req.bool('v') });
        execs.dropContainer(id);
        res.empty(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/attach',
      handler: async (req, res) => {
        const rec = engine.containers.get(req.params.id!);
        if (!req.bool('stream') && !req.bool('logs'))
          throw new BerthError('invalid-argument', 'either logs or stream must be set', { object: 'attach' });
        const conn = res.hijack();
        if (!req.bool('stream')) {
          conn.end();
          return;
        }
        await attachContainer(engine, rec.Id, { stdin: req.bool('stdin'), stdout: req.bool('stdout'), stderr: req.bool('stderr') }, conn);
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/logs',
      handler: async (req, res) => {
        const rec = engine.containers.get(req.params.id!);
        const q = parseLogsQuery(req);
        if ((rec.HostConfig.LogConfig?.Type || engine.options.log.driver) === 'none')
          throw new BerthError('not-implemented', 'configured logging driver does not support reading', { object: rec.Id });
        // A follower ends with the container: its exit record is written after the drained, fsync'd log.
        const running = rec.State.Status === 'running' || rec.State.Status === 'paused' || rec.State.Status === 'restarting';
        const done =
          q.options.follow && running
            ? new Promise<void>((resolve) => {
                const end = () => {
                  engine.signals.off(`exit:${rec.Id}`, end);
                  engine.signals.off(`removed:${rec.Id}`, end);
                  resolve();
                };
                engine.signals.on(`exit:${rec.Id}`, end);
                engine.signals.on(`removed:${rec.Id}`, end);
                req.signal.addEventListener('abort', end);
              })
            : Promise.resolve();
        // The log's files are opened before the answer's head goes out: a client that then waits
        // for the exit and removes the container (docker-py's `run`) still gets every line, from
        // files that stay readable once removed.
        let opened!: () => void;
        const open = new Promise<void>((resolve) => {
          opened = resolve;
        });
        const entries = readLogs(engine.logPath(rec.Id), { ...q.options, done, signal: req.signal, onOpen: () => opened() })[
          Symbol.asyncIterator
        ]();
        let next = entries.next();
        try {
          await Promise.race([open, next]);
        } catch (err) {
          await entries.return?.();
          throw err;
        }
        // API 1.41 answers raw-stream either way (multiplexed-stream is ≥ 1.42); clients go by Config.Tty.
        const out = res.stream('application/vnd.docker.raw-stream');
        const fmt = { tty: rec.Config.Tty === true, timestamps: q.timestamps };
        try {
          for (let r = await next; !r.done; r = await next) {
            const bytes = formatLogEntry(r.value, fmt);
            if (bytes.length && !out.write(bytes))
              await new Promise((resolve) => {
                out.once('drain', resolve);
                out.once('close', resolve);
              });
            if (out.destroyed) break;
            next = entries.next();
          }
        } finally {
          await entries.return?.();
          out.end();
        }
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/resize',
      handler: async (req, res) => {
        const rec = engine.containers.get(req.params.id!);
        const h = req.int('h') ?? 0;
        const w = req.int('w') ?? 0;
        if (rec.State.Status !== 'running')
          throw new BerthError('failed-precondition', `Container ${rec.Id} is not running`, { object: rec.Id });
        if (h > 0 && w > 0) {
          try {
            await using c = await ShimClient.connect(engine.shimSocket(rec.Id));
            await c.resize(h, w);
          } catch (err) {
            if (!(err instanceof BerthError && err.kind === 'failed-precondition')) throw err;
          }
        }
        res.empty(200);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/exec',
      handler: async (req, res) => {
        const body = await req.json<ExecConfig>();
        res.json({ Id: createExec(engine, execs, req.params.id!, body) }, 201);
      },
    },
    {
      method: 'POST',
      path: '/exec/{id}/start',
      handler: async (req, res) => {
        const body = await req.json<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: number[] }>();
        const e = execs.get(req.params.id!);
        const cs = body.ConsoleSize;
        const size = cs && cs[0] && cs[1] ? { rows: cs[0], cols: cs[1] } : undefined;
        if (body.Detach) {
          if (e.started) throw new BerthError('failed-precondition', `Error: Exec command ${e.ID} has already run`, { object: e.ID });
          // answered once the process has started, or with why it could not (dockerd's way)
          await new Promise<void>((resolve, reject) => {
            startExec(engine, execs, e.ID, undefined, size, (err) => (err ? reject(err) : resolve())).catch(reject);
          });
          res.empty(200);
          return;
        }
        if (e.started) throw new BerthError('failed-precondition', `Error: Exec command ${e.ID} has already run`, { object: e.ID });
        const conn = res.hijack();
        await startExec(engine, execs, e.ID, conn, size);
      },
    },
    {
      method: 'POST',
      path: '/exec/{id}/resize',
      handler: async (req, res) => {
        const e = execs.get(req.params.id!);
        const h = req.int('h') ?? 0;
        const w = req.int('w') ?? 0;
        if (e.Running && e.socket && h > 0 && w > 0) {
          try {
            await using c = await ShimClient.connect(e.socket);
            await c.request('resize', { exec: e.ID, rows: h, cols: w });
          } catch {
            // the exec ended meanwhile
          }
        } else if (!e.Running && h > 0 && w > 0) e.size = { rows: h, cols: w };
        res.empty(200);
      },
    },
    {
      method: 'GET',
      path: '/exec/{id}/json',
      handler: (req, res) => {
        const e = execs.get(req.params.id!);
        const c = e.config;
        const cmd = c.Cmd ?? [];
        res.json({
          ID: e.ID,
          Running: e.Running,
          ExitCode: e.ExitCode,
          ProcessConfig: {
            tty: c.Tty === true,
            entrypoint: cmd[0] ?? '',
            arguments: cmd.slice(1),
            privileged: c.Privileged === true,
            user: c.User ?? '',
          },
          OpenStdin: c.AttachStdin === true,
          OpenStderr: c.AttachStderr !== false,
          OpenStdout: c.AttachStdout !== false,
          CanRemove: false,
          ContainerID: e.ContainerID,
          DetachKeys: c.DetachKeys ?? '',
          Pid: e.Pid,
        });
      },
    },
  ];
}
