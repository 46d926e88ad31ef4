/**
 * Crash-test worker for volumes: opens a VolumeStore on <root> and, until it is killed, creates
 * plain and tmpfs volumes, holds them for containers (tmpfs mounted on the host), copies a
 * rootfs directory into them, releases and removes them. Prints "ready" once the loop runs.
 *
 *   node --import tsx test/helpers/volume-churn.ts <root> <rootfs>
 */
import path from 'node:path';
import { attachVolumes, detachVolumes, resolveVolumeMounts } from '../../src/engine/volumes/mounts.js';
import { VolumeStore } from '../../src/engine/volumes/store.js';
import { openMetadata } from '../../src/metadata/db.js';

const [root, rootfs] = process.argv.slice(2);
if (!root || !rootfs) throw new Error('usage: volume-churn <root> <rootfs>');
const db = openMetadata(path.join(root, 'metadata.db'));
const store = await VolumeStore.open({ db, root });
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  const tmpfs = n % 2 === 0;
  const name = `v${process.pid}-${n}`;
  store.create({ name, options: tmpfs ? { type: 'tmpfs', device: 'tmpfs', o: 'size=8m' } : null });
  const mounts = resolveVolumeMounts(store, {
    points: [
      {
        type: 'volume',
        source: name,
        destination: '/data',
        readOnly: false,
        propagation: '',
        nonRecursive: false,
        mode: '',
        noCopy: false,
      },
    ],
    volumes: { '/data2': {} },
  });
  await attachVolumes(store, undefined, `c${n}`, mounts, rootfs);
  detachVolumes(store, undefined, `c${n}`, mounts);
  if (n % 3 !== 0) for (const m of mounts) await store.remove(m.name);
}
