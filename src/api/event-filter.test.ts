import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineEvent, EventType } from '../engine/events.js';
import { includeEvent, stripTag } from './event-filter.js';
import { parseFilters } from './query.js';
import { parseEventTime } from './routes/system.js';

const ev = (Type: EventType, Action: string, ID: string, Attributes: Record<string, string> = {}): EngineEvent => ({
  Type,
  Action,
  Actor: { ID, Attributes },
  scope: 'local',
  time: 1,
  timeNano: 1e9,
});

const c1 = ev('container', 'start', 'abcdef0123', { name: 'web', image: 'docker.io/library/busybox:latest', tier: 'front' });
const img = ev('image', 'pull', 'sha256:1234', { name: 'localhost:5000/app:v1' });
const vol = ev('volume', 'create', 'data', { driver: 'local' });
const exec = ev('container', 'exec_start: sh -c true', 'abcdef0123', { name: 'web' });

const only = (filters: string, events: EngineEvent[]) => events.filter((e) => includeEvent(parseFilters(filters), e));

test('no filter lets everything through', () => {
  assert.deepEqual(only('', [c1, img, vol]), [c1, img, vol]);
});

test('type and event match exactly; exec_start and health_status by prefix', () => {
  assert.deepEqual(only('{"type":{"volume":true}}', [c1, img, vol]), [vol]);
  assert.deepEqual(only('{"event":{"start":true}}', [c1, img, vol, exec]), [c1]);
  assert.deepEqual(only('{"event":["sta"]}', [c1]), []);
  assert.deepEqual(only('{"event":{"exec_start":true}}', [c1, exec]), [exec]);
});

test('container, volume, network match the ID or name, exactly or by prefix, and exclude other types', () => {
  assert.deepEqual(only('{"container":{"web":true}}', [c1, img, vol]), [c1]);
  assert.deepEqual(only('{"container":{"abc":true}}', [c1, img, vol]), [c1]);
  assert.deepEqual(only('{"container":{"zzz":true}}', [c1]), []);
  assert.deepEqual(only('{"volume":{"data":true}}', [c1, img, vol]), [vol]);
  assert.deepEqual(only('{"network":{"bridge":true}}', [c1, vol]), []);
});

test('image matches the ID, the name, or the name without tag', () => {
  assert.deepEqual(only('{"image":{"busybox":true}}', [c1, img]), [c1]);
  assert.deepEqual(only('{"image":{"docker.io/library/busybox:latest":true}}', [c1, img]), [c1]);
  assert.deepEqual(only('{"image":{"localhost:5000/app":true}}', [c1, img]), [img]);
  assert.deepEqual(only('{"image":{"sha256:1234":true}}', [c1, img]), [img]);
  assert.deepEqual(only('{"image":{"busy":true}}', [c1, img]), []);
});

test('label needs every key, and the value when given', () => {
  assert.deepEqual(only('{"label":{"tier":true}}', [c1, vol]), [c1]);
  assert.deepEqual(only('{"label":{"tier=front":true}}', [c1]), [c1]);
  assert.deepEqual(only('{"label":{"tier=back":true}}', [c1]), []);
  assert.deepEqual(only('{"label":{"tier":true,"name=web":true}}', [c1]), [c1]);
});

test('several keys must all match', () => {
  assert.deepEqual(only('{"type":{"container":true},"event":{"start":true},"container":{"web":true}}', [c1, exec, img]), [c1]);
});

test('stripTag gives the familiar repository', () => {
  assert.equal(stripTag('docker.io/library/busybox:latest'), 'busybox');
  assert.equal(stripTag('localhost:5000/a/b:1'), 'localhost:5000/a/b');
  assert.equal(stripTag('!!'), '!!');
});

test('event times are seconds with an optional fraction', () => {
  assert.equal(parseEventTime('since', null), undefined);
  assert.equal(parseEventTime('since', '0'), 0n);
  assert.equal(parseEventTime('since', '1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(parseEventTime('since', '1700000000.5'), 1_700_000_000_500_000_000n);
  assert.equal(parseEventTime('since', '1700000000.000000001'), 1_700_000_000_000_000_001n);
  assert.throws(() => parseEventTime('until', '2026-01-01T00:00:00Z'), /invalid value for until/);
});
