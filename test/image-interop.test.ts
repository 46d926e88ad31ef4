/**
 * Interop with the tools everyone else uses, all real: umoci builds a busybox image, skopeo
 * pushes it, Berth pulls and berth-runtime runs it; Berth pushes (mounting across
 * repositories), skopeo pulls and umoci unpacks, with identical digests; OCI layouts written by
 * Berth are read by skopeo and the reverse; docker save/load round trips keep the image ID, the
 * legacy archive shape loads (a shared layer as a symlink), and a rootfs tarball imports.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { parseConfig } from '../src/images/manifest.js';
import { resolveImage } from '../src/images/resolve.js';
import type { ProgressEvent } from '../src/images/types.js';
import { buildImageArchive } from './helpers/image.js';
import { busyboxTar, fsck, imageOf, putImage, testService, withBundle } from './helpers/images.js';
import { registryMissing, skopeoCopyIn, skopeoInspect, startRegistry, type TestRegistry } from './helpers/registry.js';
import { firstReason, needsBinary, needsRoot } from './helpers/requires.js';
import { rootfsUnavailable, sharedRootfs } from './helpers/rootfs.js';
import { createRuntime } from './helpers/runtime.js';
import { defaultSpec } from './helpers/spec.js';
import { packTar } from './helpers/tar.js';

const run = promisify(execFile);
const skip = firstReason(needsRoot(), registryMissing(), needsBinary('skopeo'), needsBinary('umoci'), rootfsUnavailable());

describe('image interop', { skip }, () => {
  let reg: TestRegistry;
  let work: string;
  test.before(async () => {
    reg = await startRegistry({ mode: 'anonymous' });
    work = mkdtempSync(join(tmpdir(), 'berth-interop-'));
  });
  test.after(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('umoci builds busybox, skopeo pushes it, Berth pulls it and berth-runtime runs it', async (t) => {
    const rt = createRuntime('berth');
    if (rt.unavailable) return t.skip(rt.unavailable);
    const layout = join(work, 'umoci');
    const bundle = join(work, 'umoci-bundle');
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', `${layout}:v1`]);
    await run('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    await run('cp', ['-a', `${sharedRootfs().dir}/.`, join(bundle, 'rootfs')]);
    writeFileSync(join(bundle, 'rootfs', 'etc', 'motd'), 'built by umoci\n');
    await run('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
    await run('umoci', ['config', '--image', `${layout}:v1`, '--config.cmd', '/bin/sh']);
    await skopeoCopyIn(reg, layout, 'v1', 'interop/umoci');
    const pushed = await skopeoInspect(reg, 'interop/umoci:v1');

    const svc = await testService(t);
    const r = await svc.pull(`${reg.host}/interop/umoci:v1`);
    assert.equal(r.digest, pushed.Digest);
    await using runtime = rt;
    const out = await withBundle(
      svc,
      `${reg.host}/interop/umoci:v1`,
      'ctr-umoci',
      () => {
        const spec = defaultSpec();
        spec.process!.terminal = false;
        spec.process!.args = ['/bin/cat', '/etc/motd'];
        return spec;
      },
      (b) => runtime.run(['run', '--bundle', b, `bc-umoci-${process.pid}`]),
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'built by umoci\n');
  });

  test('Berth pushes (mounting the blobs from another repository); skopeo pulls and umoci unpacks the same digests', async (t) => {
    const img = imageOf([await packTar([{ name: 'hello', data: 'from berth\n' }]), await packTar([{ name: 'second', data: '2\n' }])]);
    await putImage(reg, 'interop/src', 'v1', [img]);
    const svc = await testService(t);
    await svc.pull(`${reg.host}/interop/src:v1`);
    svc.images.put({ name: `${reg.host}/interop/dst:v2`, target: svc.images.get(`${reg.host}/interop/src:v1`).target });
    const events: ProgressEvent[] = [];
    const pushed = await svc.push(`${reg.host}/interop/dst:v2`, { onProgress: (e) => events.push(e) });
    assert.equal(pushed.digest, img.manifest.digest, 'the exact manifest bytes were pushed');
    assert.deepEqual(
      events
        .filter((e) => e.id)
        .map((e) => e.status)
        .filter((s) => s !== 'Preparing' && s !== 'Pushing'),
      ['Mounted from interop/src', 'Mounted from interop/src'],
    );
    assert.equal(events.at(-1)?.status, `v2: digest: ${img.manifest.digest} size: ${img.manifest.size}`);
    // a second push: everything is there
    events.length = 0;
    await svc.push(`${reg.host}/interop/dst:v2`, { onProgress: (e) => events.push(e) });
    assert.equal(events.filter((e) => e.status === 'Layer already exists').length, 2);

    const inspected = await skopeoInspect(reg, 'interop/dst:v2');
    assert.equal(inspected.Digest, img.manifest.digest);
    const layout = join(work, 'skopeo-out');
    await run('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--preserve-digests',
      `docker://${reg.host}/interop/dst:v2`,
      `oci:${layout}:v2`,
    ]);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, img.manifest.digest);
    const bundle = join(work, 'umoci-out');
    await run('umoci', ['unpack', '--image', `${layout}:v2`, bundle]);
    assert.equal(readFileSync(join(bundle, 'rootfs', 'hello'), 'utf8'), 'from berth\n');
    assert.equal(readFileSync(join(bundle, 'rootfs', 'second'), 'utf8'), '2\n');
  });

  test('OCI layouts: exported by Berth, read by skopeo; written by skopeo, imported by Berth', async (t) => {
    const img = imageOf([await packTar([{ name: 'layout', data: 'x\n' }])]);
    await putImage(reg, 'interop/layout', 'v1', [img]);
    const svc = await testService(t);
    await svc.pull(`${reg.host}/interop/layout:v1`);
    const out = join(work, 'berth-layout');
    await svc.exportLayout(out, [`${reg.host}/interop/layout:v1`]);
    const seen = JSON.parse((await run('skopeo', ['inspect', `oci:${out}:v1`])).stdout) as { Digest: string };
    assert.equal(seen.Digest, img.manifest.digest);
    await run('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--preserve-digests',
      `oci:${out}:v1`,
      `docker://${reg.host}/interop/fromlayout:v1`,
    ]);
    assert.equal((await skopeoInspect(reg, 'interop/fromlayout:v1')).Digest, img.manifest.digest);

    const theirs = join(work, 'skopeo-layout');
    await run('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--preserve-digests',
      `docker://${reg.host}/interop/layout:v1`,
      `oci:${theirs}:v7`,
    ]);
    const svc2 = await testService(t);
    const [imported] = await svc2.importLayout(theirs, { repository: 'example.com/imported' });
    assert.equal(imported!.name, 'example.com/imported:v7');
    const resolved = await resolveImage(svc2.content, imported!.target, imported!.name);
    assert.equal(resolved.id, img.config.digest);
    assert.equal((await fsck(svc2)).snapshots.length, 1, 'unpacked');
    // an OCI-only archive (no manifest.json): the layout as a tar, loaded; untagged, so known by its ID
    await run('tar', ['-C', theirs, '-cf', join(work, 'oci-only.tar'), '.']);
    const svc4 = await testService(t);
    const l = await svc4.load(createReadStream(join(work, 'oci-only.tar')));
    assert.deepEqual(l.messages, [`Loaded image ID: ${img.config.digest}`]);
    assert.equal(l.images[0]!.target.digest, img.manifest.digest);
    // a tampered blob is refused by name
    const bad = join(work, 'bad-layout');
    await run('cp', ['-a', theirs, bad]);
    const layerFile = join(bad, 'blobs', 'sha256', img.layers[0]!.digest.slice(7));
    rmSync(layerFile);
    writeFileSync(layerFile, gzipSync(Buffer.from('not the layer')));
    const svc3 = await testService(t);
    await assert.rejects(
      svc3.importLayout(bad, { repository: 'example.com/bad' }),
      new RegExp(`blob '${img.layers[0]!.digest}'.*does not match`),
    );
    assert.equal(svc3.images.list().length, 0);
  });

  test('docker save → load keeps the image ID, the names and the manifest; the legacy shape loads too', async (t) => {
    const img = imageOf([await packTar([{ name: 'saved', data: 's\n' }]), await packTar([{ name: 'top', data: 't\n' }])]);
    await putImage(reg, 'interop/save', 'v1', [img]);
    const svc = await testService(t);
    await svc.pull(`${reg.host}/interop/save:v1`);
    svc.images.put({ name: 'example.com/other:latest', target: svc.images.get(`${reg.host}/interop/save:v1`).target });
    const archive = join(work, 'saved.tar');
    await svc.save([`${reg.host}/interop/save:v1`, 'example.com/other'], createWriteStream(archive));
    const archive2 = join(work, 'saved2.tar');
    await svc.save([`${reg.host}/interop/save:v1`, 'example.com/other'], createWriteStream(archive2));
    assert.deepEqual(readFileSync(archive), readFileSync(archive2), 'saving twice gives the same bytes');

    const svc2 = await testService(t);
    const loaded = await svc2.load(createReadStream(archive));
    assert.deepEqual(loaded.messages, [`Loaded image: ${reg.host}/interop/save:v1`, 'Loaded image: example.com/other:latest']);
    const got = await resolveImage(svc2.content, svc2.images.get(`${reg.host}/interop/save:v1`).target, 'x');
    assert.equal(got.id, img.config.digest);
    assert.equal(got.manifestDesc.digest, img.manifest.digest);
    assert.equal((await fsck(svc2)).snapshots.length, 2);

    // the legacy (Docker ≤ 24) shape: manifest.json, <id>.json, <v1>/layer.tar
    const legacy = buildImageArchive(join(work, 'legacy'), { tag: 'berth-test/busybox:latest' });
    const svc3 = await testService(t);
    const l = await svc3.load(createReadStream(legacy.tar));
    assert.deepEqual(l.messages, ['Loaded image: berth-test/busybox:latest']);
    const li = await resolveImage(svc3.content, svc3.images.get('berth-test/busybox').target, 'x');
    assert.equal(li.id, legacy.configDigest);
    assert.equal(li.layers[0]!.diffId, legacy.diffId);
  });

  test("an archive written by Debian's dockerd (docker save) loads with its image ID", async (t) => {
    const why = firstReason(needsBinary('dockerd'), needsBinary('docker'));
    if (why) return t.skip(why);
    const dk = mkdtempSync(join(tmpdir(), 'berth-dockerd-'));
    const sock = join(dk, 'docker.sock');
    const dockerd = spawn(
      'dockerd',
      [
        `--data-root=${dk}/root`,
        `--exec-root=${dk}/exec`,
        `--pidfile=${dk}/pid`,
        `--host=unix://${sock}`,
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        '--storage-driver=vfs',
      ],
      { stdio: 'ignore' },
    );
    t.after(async () => {
      if (dockerd.exitCode === null && dockerd.signalCode === null) {
        const exited = new Promise((r) => dockerd.once('exit', r));
        process.kill(dockerd.pid!, 'SIGTERM');
        await exited;
      }
      await run('sh', ['-c', `grep -o ' ${dk}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => {});
      rmSync(dk, { recursive: true, force: true });
    });
    const docker = (...args: string[]) => run('docker', ['-H', `unix://${sock}`, ...args]);
    for (let i = 0; ; i++) {
      try {
        await docker('version');
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const tarFile = join(dk, 'rootfs.tar');
    writeFileSync(tarFile, busyboxTar(dk));
    const id = (await docker('import', '-c', 'CMD ["/bin/sh"]', '-m', 'from dockerd', tarFile, 'dockerd/bb:1')).stdout.trim();
    await docker('save', '-o', join(dk, 'saved.tar'), 'dockerd/bb:1');
    const svc = await testService(t);
    const r = await svc.load(createReadStream(join(dk, 'saved.tar')));
    assert.deepEqual(r.messages, ['Loaded image: dockerd/bb:1']);
    const img = await resolveImage(svc.content, svc.images.get('dockerd/bb:1').target, 'x');
    assert.equal(img.id, id);
    assert.equal((parseConfig(img.configBytes, 'c') as { comment?: string }).comment, 'from dockerd');
    assert.equal((await fsck(svc)).snapshots.length, 1);

    // and the other way: what Berth saves, dockerd loads, with the same image ID
    svc.images.put({ name: 'berth/saved:2', target: svc.images.get('dockerd/bb:1').target });
    await svc.save(['berth/saved:2'], createWriteStream(join(dk, 'berth.tar')));
    const loaded = (await docker('load', '-i', join(dk, 'berth.tar'))).stdout;
    assert.match(loaded, /Loaded image: berth\/saved:2/);
    assert.equal((await docker('image', 'inspect', '-f', '{{.Id}}', 'berth/saved:2')).stdout.trim(), id);
  });

  test('load follows symlinks inside the archive only, and checks diff_ids with Docker texts', async (t) => {
    const layer = await packTar([{ name: 'f', data: 'layer\n' }]);
    const { createHash } = await import('node:crypto');
    const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId, diffId] } });
    const cfgHex = createHash('sha256').update(config).digest('hex');
    const build = (entries: { name: string; data?: Buffer | string; linkname?: string; type?: 'symlink' }[]) => packTar(entries);
    const manifest = JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: ['sym/link:1'], Layers: ['a/layer.tar', 'b/layer.tar'] }]);
    const good = await build([
      { name: 'manifest.json', data: manifest },
      { name: `${cfgHex}.json`, data: config },
      { name: 'a/layer.tar', data: gzipSync(layer) },
      { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
    ]);
    const svc = await testService(t);
    const r = await svc.load(Readable.from([good]));
    assert.deepEqual(r.messages, ['Loaded image: sym/link:1']);
    // a symlink out of the archive resolves inside it (to a missing file), never to the host
    const escaping = await build([
      { name: 'manifest.json', data: manifest },
      { name: `${cfgHex}.json`, data: config },
      { name: 'a/layer.tar', type: 'symlink', linkname: '../../../../etc/passwd' },
      { name: 'b/layer.tar', type: 'symlink', linkname: '/etc/passwd' },
    ]);
    await assert.rejects(svc.load(Readable.from([escaping])), /load: invalid archive: layer 'a\/layer.tar' not found/);
    const wrong = await build([
      { name: 'manifest.json', data: manifest },
      { name: `${cfgHex}.json`, data: config },
      { name: 'a/layer.tar', data: layer },
      { name: 'b/layer.tar', data: await packTar([{ name: 'other', data: '!' }]) },
    ]);
    await assert.rejects(
      svc.load(Readable.from([wrong])),
      /invalid diffID for layer 1: expected "sha256:[0-9a-f]+", got "sha256:[0-9a-f]+"/,
    );
    const short = await build([
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: [], Layers: ['a/layer.tar'] }]) },
      { name: `${cfgHex}.json`, data: config },
      { name: 'a/layer.tar', data: layer },
    ]);
    await assert.rejects(svc.load(Readable.from([short])), /invalid manifest, layers length mismatch: expected 2, got 1/);
    await assert.rejects(
      svc.load(Readable.from([await build([{ name: 'x', data: 'y' }])])),
      /invalid archive: does not contain a manifest.json/,
    );
  });

  test('docker import of a gzip rootfs tarball with --change and -m', async (t) => {
    const svc = await testService(t);
    const tar = busyboxTar(work);
    const r = await svc.importRootfs(Readable.from([gzipSync(tar)]), {
      reference: 'imported/bb:1',
      message: 'my msg',
      changes: ['CMD ["/bin/sh"]', 'ENV A=b'],
    });
    const img = await resolveImage(svc.content, r.image.target, r.image.name);
    assert.equal(img.id, r.id);
    const config = parseConfig(img.configBytes, 'config') as ReturnType<typeof parseConfig> & { comment?: string };
    assert.deepEqual(config.config?.Env, ['A=b']);
    assert.deepEqual(config.config?.Cmd, ['/bin/sh']);
    assert.equal(config.comment, 'my msg');
    assert.equal(config.rootfs.diff_ids[0], `sha256:${(await import('node:crypto')).createHash('sha256').update(tar).digest('hex')}`);
    assert.equal(img.layers[0]!.compression, 'gzip');
    const plain = await svc.importRootfs(Readable.from([tar]), { source: 'http://example.com/r.tar' });
    const pc = parseConfig((await resolveImage(svc.content, plain.image.target, 'x')).configBytes, 'c') as { comment?: string };
    assert.equal(pc.comment, 'Imported from http://example.com/r.tar');
    // xz and bzip2 bodies are decompressed by the system tools and stored uncompressed
    for (const [tool, flag] of [
      ['xz', '-c'],
      ['bzip2', '-c'],
    ] as const) {
      const packed = (await new Promise<Buffer>((resolve, reject) => {
        const p = spawn(tool, [flag], { stdio: ['pipe', 'pipe', 'ignore'] });
        const chunks: Buffer[] = [];
        p.stdout.on('data', (c: Buffer) => chunks.push(c));
        p.on('error', reject);
        p.on('close', () => resolve(Buffer.concat(chunks)));
        p.stdin.end(tar);
      })) as Buffer;
      const x = await svc.importRootfs(Readable.from([packed]), { reference: `imported/${tool}:1` });
      const xi = await resolveImage(svc.content, x.image.target, 'x');
      assert.equal(xi.layers[0]!.compression, 'none', tool);
      assert.equal(xi.layers[0]!.diffId, config.rootfs.diff_ids[0], tool);
    }
  });
});
