/**
 * The volume routes against a real VolumeStore on a temp root, through a minimal request and
 * response that record what the handler answers (the HTTP layer is src/api/server.ts's).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { EventBus } from '../../engine/events.js';
import { VolumeStore } from '../../engine/volumes/store.js';
import { openMetadata } from '../../metadata/db.js';
import type { ApiRequest, ApiResponse, Method, Route } from '../types.js';
import { volumeRoutes } from './volumes.js';

const root = mkdtempSync(path.join(tmpdir(), 'berth-volroutes-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Answer {
  status: number;
  body: unknown;
}

async function call(
  routes: Route[],
  method: Method,
  p: string,
  opts: { body?: unknown; query?: string; version?: string } = {},
): Promise<Answer> {
  for (const r of routes) {
    if (r.method !== method) continue;
    const re = new RegExp(`^${r.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
    const m = re.exec(p);
    if (!m) continue;
    const query = new URLSearchParams(opts.query ?? '');
    const req = {
      method,
      path: p,
      version: opts.version ?? '1.41',
      params: m.groups ?? {},
      query,
      headers: {},
      signal: new AbortController().signal,
      raw: undefined as never,
      json: async () => opts.body ?? {},
      bool: (n: string, d = false) => (query.has(n) ? ['1', 'true', 'True'].includes(query.get(n)!) : d),
      int: () => undefined,
      filters: () => {
        const f = query.get('filters');
        if (!f) return new Map();
        const o = JSON.parse(f) as Record<string, Record<string, boolean> | string[]>;
        return new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : Object.keys(v)]));
      },
    } as unknown as ApiRequest;
    const ans: Answer = { status: 0, body: undefined };
    const res = {
      json(body: unknown, status = 200) {
        Object.assign(ans, { body, status });
      },
      empty(status = 204) {
        ans.status = status;
      },
    } as unknown as ApiResponse;
    await r.handler(req, res);
    return ans;
  }
  throw new Error(`no route ${method} ${p}`);
}

describe('volume routes', async () => {
  const db = openMetadata(path.join(root, 'metadata.db'));
  const volumes = await VolumeStore.open({ db, root, events: new EventBus() });
  const inUse = new Map<string, string[]>();
  const routes = volumeRoutes({ volumes, events: new EventBus(), volumeUsers: (n) => inUse.get(n) ?? [] });

  test('create 201, inspect, list with filters, idempotent create', async () => {
    const c = await call(routes, 'POST', '/volumes/create', {
      body: { Name: 'web', Driver: 'local', DriverOpts: {}, Labels: { tier: 'front' } },
    });
    assert.equal(c.status, 201);
    const v = c.body as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.equal(v.Mountpoint, path.join(root, 'volumes/web/_data'));
    assert.deepEqual(v.Labels, { tier: 'front' });
    const again = await call(routes, 'POST', '/volumes/create', { body: { Name: 'web' } });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, v);
    assert.deepEqual((await call(routes, 'GET', '/volumes/web')).body, v);
    await call(routes, 'POST', '/volumes/create', { body: { Name: 'db' } });
    inUse.set('db', ['c'.repeat(64)]);
    const l = (await call(routes, 'GET', '/volumes', { query: `filters=${encodeURIComponent('{"dangling":{"true":true}}')}` })).body as {
      Volumes: { Name: string }[];
      Warnings: unknown[];
    };
    assert.deepEqual(
      l.Volumes.map((x) => x.Name),
      ['web'],
    );
    assert.deepEqual(l.Warnings, []);
    const byLabel = (await call(routes, 'GET', '/volumes', { query: `filters=${encodeURIComponent('{"label":["tier=front"]}')}` }))
      .body as {
      Volumes: { Name: string }[];
    };
    assert.deepEqual(
      byLabel.Volumes.map((x) => x.Name),
      ['web'],
    );
  });

  test('bad bodies and names are 400s; a missing volume 404', async () => {
    await assert.rejects(call(routes, 'POST', '/volumes/create', { body: { Name: 5 } }), { kind: 'invalid-argument' });
    await assert.rejects(call(routes, 'POST', '/volumes/create', { body: { Labels: ['x'] } }), { kind: 'invalid-argument' });
    await assert.rejects(call(routes, 'POST', '/volumes/create', { body: { Name: '../etc' } }), { kind: 'invalid-argument' });
    await assert.rejects(call(routes, 'POST', '/volumes/create', { body: [] }), { kind: 'invalid-argument' });
    await assert.rejects(call(routes, 'GET', '/volumes/nope'), { kind: 'not-found', message: 'get nope: no such volume' });
    await assert.rejects(call(routes, 'GET', '/volumes', { query: 'filters={"x":["1"]}' }), { kind: 'invalid-argument' });
  });

  test('delete: 409 in use (force too), 204, force on a missing one 204', async () => {
    await assert.rejects(call(routes, 'DELETE', '/volumes/db', { query: 'force=1' }), {
      kind: 'failed-precondition',
      message: `remove db: volume is in use - [${'c'.repeat(64)}]`,
    });
    inUse.delete('db');
    assert.equal((await call(routes, 'DELETE', '/volumes/db')).status, 204);
    assert.equal((await call(routes, 'DELETE', '/volumes/db', { query: 'force=1' })).status, 204);
    await assert.rejects(call(routes, 'DELETE', '/volumes/db'), { kind: 'not-found' });
  });

  test('prune: 1.41 unused local volumes without options, 1.42 anonymous only', async () => {
    const anon = ((await call(routes, 'POST', '/volumes/create', { body: {} })).body as { Name: string }).Name;
    await call(routes, 'POST', '/volumes/create', { body: { Name: 'keep' } });
    await call(routes, 'POST', '/volumes/create', { body: { Name: 'opts', DriverOpts: { type: 'tmpfs', device: 'tmpfs' } } });
    inUse.set('keep', ['c1']);
    const p42 = (await call(routes, 'POST', '/volumes/prune', { version: '1.42' })).body;
    assert.deepEqual(p42, { VolumesDeleted: [anon], SpaceReclaimed: 0 });
    const p41 = (await call(routes, 'POST', '/volumes/prune')).body;
    assert.deepEqual(p41, { VolumesDeleted: ['web'], SpaceReclaimed: 0 });
    assert.deepEqual((await call(routes, 'POST', '/volumes/prune')).body, { VolumesDeleted: [], SpaceReclaimed: 0 });
  });
});
