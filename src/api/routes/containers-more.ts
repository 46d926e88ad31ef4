/**
 * The container endpoints beyond the lifecycle: stats, top, update, prune, commit, and system df.
 * The engine's verbs are in src/engine/containers/.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../common/errors.js';
import { commitContainer } from '../../engine/containers/commit.js';
import { pruneContainers } from '../../engine/containers/prune.js';
import { type Sample, sampleStats, toDockerStats } from '../../engine/containers/stats.js';
import { topContainer } from '../../engine/containers/top.js';
import { type UpdateBody, updateContainer } from '../../engine/containers/update.js';
import type { Engine } from '../../engine/engine.js';
import { systemDf } from '../../engine/system-df.js';
import type { Route } from '../types.js';

/** dockerd's stats collector samples once a second. */
const STATS_INTERVAL_MS = 1000;

export function containerMoreRoutes(engine: Engine): Route[] {
  return [
    {
      method: 'GET',
      path: '/containers/{id}/stats',
      handler: async (req, res) => {
        const rec = engine.containers.get(req.params.id!);
        const stream = req.bool('stream', true);
        const oneShot = req.bool('one-shot');
        const running = () => {
          const s = engine.containers.find(rec.Id)?.State.Status;
          return s === 'running' || s === 'paused';
        };
        if (!running()) {
          res.json(toDockerStats(rec, { read: '', stats: undefined, host: { systemUsage: 0, onlineCpus: 0, memTotal: 0 } }, undefined));
          return;
        }
        if (!stream) {
          let prev: Sample | undefined;
          if (!oneShot) {
            // the first sample only primes precpu, so the CPU % is not zero (dockerd does this too)
            prev = await sampleStats(engine, rec.Id);
            await sleep(STATS_INTERVAL_MS, undefined, { signal: req.signal }).catch(() => {});
          }
          res.json(toDockerStats(rec, await sampleStats(engine, rec.Id), prev));
          return;
        }
        const out = res.stream('application/json');
        let prev: Sample | undefined;
        try {
          while (!req.signal.aborted && !out.destroyed) {
            const cur = await sampleStats(engine, rec.Id);
            if (!cur.stats && !running()) break;
            if (!out.write(`${JSON.stringify(toDockerStats(rec, cur, prev))}\n`))
              await new Promise((r) => {
                out.once('drain', r);
                out.once('close', r);
              });
            prev = cur;
            await sleep(STATS_INTERVAL_MS, undefined, { signal: req.signal }).catch(() => {});
          }
        } finally {
          out.end();
        }
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/top',
      handler: async (req, res) => {
        res.json(await topContainer(engine, req.params.id!, req.query.get('ps_args')));
      },
    },
    {
      method: 'POST',
      path: '/commit',
      handler: async (req, res) => {
        const q = req.query;
        const container = q.get('container') ?? '';
        if (!container) throw new BerthError('invalid-argument', 'No container name or ID supplied', { object: 'container' });
        // the body may hold a config to merge (docker commit sends none); read it so the request completes
        await req.json().catch(() => ({}));
        const repo = q.get('repo') ?? '';
        const tag = q.get('tag') ?? '';
        if (!repo && tag) throw new BerthError('invalid-argument', 'tag is specified without a repository', { object: 'tag' });
        const id = await commitContainer(engine, container, {
          ...(repo ? { reference: tag ? `${repo}:${tag}` : repo } : {}),
          comment: q.get('comment') ?? '',
          author: q.get('author') ?? '',
          changes: q.getAll('changes').filter(Boolean),
          pause: req.bool('pause', true),
        });
        res.json({ Id: id }, 201);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/update',
      handler: async (req, res) => {
        const body = await req.json<UpdateBody>();
        res.json({ Warnings: await updateContainer(engine, req.params.id!, body ?? {}) });
      },
    },
    {
      method: 'POST',
      path: '/containers/prune',
      handler: async (req, res) => {
        res.json(await pruneContainers(engine, req.filters()));
      },
    },
    {
      method: 'GET',
      path: '/system/df',
      handler: async (_req, res) => {
        res.json(await systemDf(engine));
      },
    },
  ];
}
