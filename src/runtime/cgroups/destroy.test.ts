import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordingEffects } from '../effects-fake.js';
import { type CgroupDir, managerFor } from './manager.js';

const MOUNT = '/sys/fs/cgroup/memory';
const DIR = `${MOUNT}/c1`;

function busyCgroup(): RecordingEffects {
  const fx = new RecordingEffects({ dirs: [MOUNT], cgroupFiles: { [MOUNT]: ['cgroup.procs'] } });
  fx.mkdir(DIR);
  fx.writeFile(`${DIR}/cgroup.procs`, '123');
  return fx;
}

const dirs: CgroupDir[] = [
  { hierarchy: { mountpoint: MOUNT, controllers: ['memory'], version: 1, ownPath: '/', mountRoot: '/' }, path: '/c1', dir: DIR },
];

/** The last process leaves the cgroup (it is reaped) after `ms`. */
function emptiesAfter(fx: RecordingEffects, ms: number): void {
  setTimeout(() => (fx as unknown as { files: Map<string, string> }).files.set(`${DIR}/cgroup.procs`, ''), ms);
}

test('destroy waits for a cgroup that is busy for more than a second (a loaded machine), then removes it', async () => {
  const fx = busyCgroup();
  emptiesAfter(fx, 1500);
  await managerFor(dirs, { effects: fx }).destroy();
  assert.equal(fx.exists(DIR), false);
});

test('destroy gives up on a cgroup that stays busy, naming it', { timeout: 20_000 }, async () => {
  const fx = busyCgroup();
  await assert.rejects(managerFor(dirs, { effects: fx }).destroy(), /remove cgroup '\/sys\/fs\/cgroup\/memory\/c1': .*busy/);
  assert.equal(fx.exists(DIR), true);
});
