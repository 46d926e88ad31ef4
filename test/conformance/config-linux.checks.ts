/**
 * config-linux.md (namespaces, id mappings, devices, cgroups, sysctl,
 * seccomp, rootfs propagation, masked and read-only paths) and
 * runtime-linux.md (file descriptors, /dev symlinks).
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '../helpers/bundle.js';
import { cgroupsOf, create, waitFor, waitForExit, waitForFile } from '../helpers/container.js';
import { mountAt, ProbeOutput, parseMountinfo } from '../helpers/probe.js';
import { cgroupLayout, needsBinary, needsCgroupController, needsNamespace, needsUserns } from '../helpers/requires.js';
import { hostSync } from '../helpers/runtime.js';
import { capMask, type LinuxIdMapping, type Namespace, type Spec } from '../helpers/spec.js';
import {
  cgroupDirsOf,
  created,
  nsLink,
  readTrim,
  removeCgroupTreesNamed,
  setProbe,
  sleeperBundle,
  started,
  statusOrAbsent,
  uniqueCgroupPath,
} from './common.js';
import { type Check, type CheckContext, expectFailure, expectSuccess, SkipCheck } from './harness.js';

/** Spec namespace type → /proc/<pid>/ns/<name>. */
const NS_PROC: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  mount: 'mnt',
  cgroup: 'cgroup',
  user: 'user',
  time: 'time',
};

function setNamespaces(s: Spec, ns: Namespace[]): void {
  s.linux = { ...s.linux, namespaces: ns };
}

/** Adds a user namespace with these mappings (gid mappings default to the uid ones). */
function withUserns(s: Spec, uidMappings: LinuxIdMapping[], gidMappings: LinuxIdMapping[] = uidMappings): void {
  s.linux?.namespaces?.push({ type: 'user' });
  if (s.linux !== undefined) {
    s.linux.uidMappings = uidMappings;
    s.linux.gidMappings = gidMappings;
  }
}

/** Starts `unshare --net --uts --ipc sleep` (owned by the check) and waits until it holds its namespaces. */
async function namespaceHolder(ctx: CheckContext): Promise<number> {
  const pid = ctx.spawnHelper(['unshare', '--net', '--uts', '--ipc', 'sleep', '600']);
  await waitFor('the namespace holder to unshare', () => {
    try {
      return nsLink(pid, 'net') !== nsLink('self', 'net') && nsLink(pid, 'ipc') !== nsLink('self', 'ipc') ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return pid;
}

/** Mounts at or below the bundle in our (the runtime's) mount namespace. */
function bundleMounts(b: Bundle): string[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.mountPoint)
    .filter((p) => p === b.dir || p.startsWith(`${b.dir}/`));
}

/** The v1 or v2 file for a cgroup setting of a process. */
function cgroupFile(pid: number, v1ctrl: string, v1file: string, v2file: string): string {
  const dirs = cgroupDirsOf(pid);
  if (cgroupLayout() === 'v2') {
    const d = dirs.get('');
    if (d === undefined) throw new Error(`process ${pid} has no cgroup v2 path`);
    return join(d, v2file);
  }
  const d = dirs.get(v1ctrl);
  if (d === undefined) throw new Error(`process ${pid} is in no ${v1ctrl} cgroup`);
  return join(d, v1file);
}

/** Runs the probe as `wait-signal` then `ls DIR`: `between` runs on the host while it waits. */
async function lsAfter(ctx: CheckContext, b: Bundle, dir: string, between: () => void): Promise<ProbeOutput> {
  await b.editConfig((s) => setProbe(s, ['mounts'], ['wait-signal', '120'], ['ls', dir]));
  const c = await created(ctx, b);
  await started(ctx.rt, c.id);
  await waitForFile(c.stdoutFile, (s) => s.includes('ready'));
  between();
  expectSuccess(await ctx.rt.run(['kill', c.id, 'TERM']), 'kill TERM');
  await waitForExit(c.pid());
  return new ProbeOutput(await c.stdout());
}

function propagationCheck(mode: 'shared' | 'slave' | 'private' | 'unbindable', quote: string): Check {
  return {
    id: `config-linux/rootfs-propagation-${mode}`,
    doc: 'config-linux.md#rootfs-mount-propagation',
    level: 'MUST',
    quote,
    async run(ctx) {
      // The rootfs is a shared mount on the host, so the host has events to propagate.
      const b = await ctx.bundle({ probeArgs: [], sharedMount: true });
      mkdirSync(b.inRootfs('mnt/prop'), { recursive: true });
      await b.editConfig((s) => {
        s.linux = { ...s.linux, rootfsPropagation: mode };
      });
      const target = b.inRootfs('mnt/prop');
      const out = await lsAfter(ctx, b, '/mnt/prop', () => {
        const r = hostSync(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', target]);
        if (r.code !== 0) throw new Error(`host mount: ${r.stderr}`);
        writeFileSync(join(target, 'from-host'), 'x');
      });
      const root = mountAt(parseMountinfo(out.text('mounts')), '/');
      assert.ok(root, 'the container has a / mount');
      const opt = root.optional.join(' ');
      const seen = out.lines('ls', '/mnt/prop');
      switch (mode) {
        case 'shared':
          assert.match(opt, /\bshared:\d+/, `/ must be in a peer group: '${opt}'`);
          break;
        case 'slave':
          assert.match(opt, /\bmaster:\d+/, `/ must be a slave mount: '${opt}'`);
          assert.ok(!/\bshared:/.test(opt), `/ must not be shared: '${opt}'`);
          assert.deepEqual(seen, ['from-host'], 'a host mount must propagate into a slave rootfs');
          break;
        case 'private':
          assert.ok(!/\b(shared|master):/.test(opt), `/ must be private: '${opt}'`);
          assert.deepEqual(seen, [], 'a host mount must not propagate into a private rootfs');
          break;
        case 'unbindable':
          assert.match(opt, /\bunbindable\b/, `/ must be unbindable: '${opt}'`);
          break;
      }
    },
  };
}

/**
 * rootfsPropagation with the rootfs an ordinary directory (not a mount point) on whatever mount
 * the host has there: the usual bundle. Only the container's `/` is looked at.
 */
function plainPropagationCheck(mode: 'shared' | 'unbindable'): Check {
  return {
    id: `config-linux/rootfs-propagation-${mode}-plain-dir`,
    doc: 'config-linux.md#rootfs-mount-propagation',
    level: 'MUST',
    quote: `rootfsPropagation (string, OPTIONAL) sets the rootfs's mount propagation. Its value is either shared, slave, private or unbindable. (${mode}, the rootfs an ordinary directory)`,
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['mounts'] });
      await b.editConfig((s) => {
        s.linux = { ...s.linux, rootfsPropagation: mode };
      });
      const r = await ctx.rt.run(['run', '--bundle', b.dir, ctx.track(b, ctx.id())]);
      expectSuccess(r, `run with rootfsPropagation ${mode}`);
      const root = mountAt(parseMountinfo(new ProbeOutput(r.stdout, ['mounts']).text('mounts')), '/');
      assert.ok(root, 'the container has a / mount');
      const opt = root.optional.join(' ');
      if (mode === 'shared') assert.match(opt, /\bshared:\d+/, `/ must be in a peer group: '${opt}'`);
      else assert.match(opt, /\bunbindable\b/, `/ must be unbindable: '${opt}'`);
    },
  };
}

export const configLinuxChecks: Check[] = [
  // ------------------------------------------------------------- namespaces
  {
    id: 'config-linux/namespaces-new',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote: 'If path is not specified, the runtime MUST create a new container namespace of type type.',
    requires: () => needsNamespace('cgroup'),
    async run(ctx) {
      const types = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];
      const b = await sleeperBundle(ctx, (s) =>
        setNamespaces(
          s,
          types.map((type) => ({ type })),
        ),
      );
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      const pid = c.pid();
      for (const t of types) {
        const p = NS_PROC[t] ?? t;
        assert.notEqual(nsLink(pid, p), nsLink('self', p), `${t}: the container must have a new namespace`);
      }
      const statusNs =
        readFileSync(`/proc/${pid}/status`, 'utf8')
          .match(/^NSpid:\s*(.*)$/m)?.[1]
          ?.trim()
          .split(/\s+/) ?? [];
      assert.equal(statusNs.at(-1), '1', `in its new pid namespace the container process must be pid 1 (NSpid: ${statusNs.join(' ')})`);
    },
  },
  {
    id: 'config-linux/namespaces-inherit',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote: 'If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type.',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        setNamespaces(s, [{ type: 'mount' }]);
        delete s.hostname;
      });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      for (const p of ['pid', 'net', 'ipc', 'uts', 'cgroup', 'user']) {
        assert.equal(nsLink(c.pid(), p), nsLink('self', p), `${p}: the container must share the runtime's namespace`);
      }
      assert.notEqual(nsLink(c.pid(), 'mnt'), nsLink('self', 'mnt'), 'mount: a new namespace was asked for');
    },
  },
  {
    id: 'config-linux/namespaces-path',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote: 'path … The runtime MUST place the container process in the namespace associated with that path.',
    requires: () => needsBinary('unshare'),
    async run(ctx) {
      const holder = await namespaceHolder(ctx);
      const b = await sleeperBundle(ctx, (s) => {
        setNamespaces(s, [
          { type: 'pid' },
          { type: 'mount' },
          { type: 'network', path: `/proc/${holder}/ns/net` },
          { type: 'uts', path: `/proc/${holder}/ns/uts` },
          { type: 'ipc', path: `/proc/${holder}/ns/ipc` },
        ]);
        delete s.hostname;
      });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      for (const p of ['net', 'uts', 'ipc']) assert.equal(nsLink(c.pid(), p), nsLink(holder, p), `${p}: must be the namespace at the path`);
    },
  },
  {
    id: 'config-linux/namespaces-inherit-mount',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote:
      'If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type. (mount: no new mount namespace)',
    async run(ctx) {
      // Nothing to mount: without a mount namespace of its own a mount would land on the host.
      // /bin/sh and sleep exist in the rootfs and on the host, however the root is set.
      const b = await ctx.bundle({ probeArgs: [] });
      await b.editConfig((s) => {
        // every namespace inherited: a new pid namespace would need a /proc of its own
        setNamespaces(s, []);
        delete s.hostname;
        s.mounts = [];
        s.root = { path: s.root?.path ?? 'rootfs', readonly: false };
        s.linux = { ...s.linux, maskedPaths: [], readonlyPaths: [] };
        if (s.process !== undefined) s.process.args = ['/bin/sh', '-c', 'exec sleep 600'];
      });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      assert.equal(nsLink(c.pid(), 'mnt'), nsLink('self', 'mnt'), "mount: the container must be in the runtime's mount namespace");
      assert.deepEqual(bundleMounts(b), [], "nothing of the bundle may be mounted in the runtime's (the host's) mount namespace");
    },
  },
  {
    id: 'config-linux/namespaces-path-mount',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote: 'path … The runtime MUST place the container process in the namespace associated with that path. (type mount)',
    requires: () => needsBinary('unshare'),
    async run(ctx) {
      // A private mount namespace of the check's own: the container's mounts happen in it.
      const holder = ctx.spawnHelper(['unshare', '--mount', '--propagation', 'private', 'sleep', '600']);
      await waitFor('the mount namespace holder to unshare', () => {
        try {
          return nsLink(holder, 'mnt') !== nsLink('self', 'mnt') ? true : undefined;
        } catch {
          return undefined;
        }
      });
      const b = await sleeperBundle(ctx, (s) => {
        setNamespaces(s, [{ type: 'pid' }, { type: 'mount', path: `/proc/${holder}/ns/mnt` }]);
        delete s.hostname;
      });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      assert.equal(nsLink(c.pid(), 'mnt'), nsLink(holder, 'mnt'), 'mnt: must be the namespace at the path');
      assert.deepEqual(bundleMounts(b), [], "the container's mounts are in the joined namespace, not the runtime's");
    },
  },
  {
    id: 'config-linux/namespaces-path-pid-cgroup',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote: 'path … The runtime MUST place the container process in the namespace associated with that path. (types pid and cgroup)',
    requires: () => needsBinary('unshare') ?? needsNamespace('cgroup'),
    async run(ctx) {
      // unshare --pid --kill-child (a --fork whose child dies with unshare): the namespace's init is
      // unshare's child, and killing the helper by pid must not leave it running.
      const unshare = ctx.spawnHelper(['unshare', '--pid', '--kill-child', '--cgroup', 'sleep', '600']);
      const holder = await waitFor('the pid namespace holder to start', () => {
        try {
          const child = Number(readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'utf8').trim().split(/\s+/)[0]);
          return child > 0 && nsLink(child, 'pid') !== nsLink('self', 'pid') ? child : undefined;
        } catch {
          return undefined;
        }
      });
      const b = await sleeperBundle(ctx, (s) => {
        setNamespaces(s, [
          { type: 'mount' },
          { type: 'pid', path: `/proc/${holder}/ns/pid` },
          { type: 'cgroup', path: `/proc/${holder}/ns/cgroup` },
        ]);
        delete s.hostname;
      });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      for (const p of ['pid', 'cgroup']) assert.equal(nsLink(c.pid(), p), nsLink(holder, p), `${p}: must be the namespace at the path`);
    },
  },
  {
    id: 'config-linux/namespaces-path-wrong-type',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote: 'The runtime MUST generate an error if path is not associated with a namespace of type type.',
    requires: () => needsBinary('unshare'),
    async run(ctx) {
      const holder = await namespaceHolder(ctx);
      const b = await sleeperBundle(ctx, (s) => {
        setNamespaces(s, [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: `/proc/${holder}/ns/uts` }]);
        delete s.hostname;
      });
      const id = ctx.id();
      expectFailure((await create(ctx.rt, b, id)).result, 'create with a uts namespace path for type network');
      assert.equal(await statusOrAbsent(ctx.rt, id), 'absent');
    },
  },
  {
    id: 'config-linux/namespaces-duplicate',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote: 'If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error.',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        s.linux?.namespaces?.push({ type: 'pid' });
      });
      const id = ctx.id();
      expectFailure((await create(ctx.rt, b, id)).result, 'create with two pid namespaces');
      assert.equal(await statusOrAbsent(ctx.rt, id), 'absent');
    },
  },
  {
    id: 'config-linux/namespaces-time',
    doc: 'config-linux.md#namespaces',
    level: 'SHOULD',
    quote: 'type … The following namespace types SHOULD be supported: … time the container will be able to have its own clocks.',
    requires: () => needsNamespace('time'),
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        s.linux?.namespaces?.push({ type: 'time' });
      });
      const c = await created(ctx, b);
      await started(ctx.rt, c.id);
      assert.notEqual(nsLink(c.pid(), 'time'), nsLink('self', 'time'), 'the container must have its own time namespace');
    },
  },
  {
    id: 'config-linux/user-namespace-mappings',
    doc: 'config-linux.md#user-namespace-mappings',
    level: 'MUST',
    quote:
      'uidMappings (array of objects, OPTIONAL) describes the user namespace uid mappings from the host to the container. gidMappings …',
    requires: () => needsUserns(),
    async run(ctx) {
      const out = await ctx.probe(['cat', '/proc/self/uid_map', '+', 'cat', '/proc/self/gid_map', '+', 'ids', '+', 'ns', 'user'], (s) => {
        s.linux?.namespaces?.push({ type: 'user' });
        if (s.linux !== undefined) {
          s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          s.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
        }
      });
      const map = (text: string) => text.trim().split(/\s+/).map(Number);
      assert.deepEqual(map(out.text('cat', '/proc/self/uid_map')), [0, 100000, 65536], 'uid_map');
      assert.deepEqual(map(out.text('cat', '/proc/self/gid_map')), [0, 200000, 65536], 'gid_map');
      assert.equal(out.kv('ids').get('uid'), '0');
      assert.notEqual(out.value('ns', 'user'), nsLink('self', 'user'), 'the container must have its own user namespace');
    },
  },
  {
    id: 'config-linux/user-namespace-no-chown',
    doc: 'config-linux.md#user-namespace-mappings',
    level: 'SHOULD NOT',
    quote: 'The runtime SHOULD NOT modify the ownership of referenced filesystems to realize the mapping.',
    requires: () => needsUserns(),
    async run(ctx) {
      const b = await ctx.bundle({ probeArgs: ['ids'] });
      const paths = ['/probe', '/bin', '/etc/passwd', '/'];
      const before = paths.map((p) => `${statSync(b.inRootfs(p)).uid}:${statSync(b.inRootfs(p)).gid}`);
      await b.editConfig((s) => {
        s.linux?.namespaces?.push({ type: 'user' });
        if (s.linux !== undefined) {
          s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        }
      });
      expectSuccess(await ctx.rt.run(['run', '--bundle', b.dir, ctx.track(b, ctx.id())]), 'run with a user namespace');
      const after = paths.map((p) => `${statSync(b.inRootfs(p)).uid}:${statSync(b.inRootfs(p)).gid}`);
      assert.deepEqual(after, before, `ownership of ${paths.join(', ')} must not change`);
    },
  },

  {
    id: 'config-linux/user-namespace-mappings-multiple',
    doc: 'config-linux.md#user-namespace-mappings',
    level: 'MUST',
    quote: 'uidMappings (array of objects, OPTIONAL) … gidMappings (array of objects, OPTIONAL) …: every entry of the arrays is a mapping',
    requires: () => needsUserns(),
    async run(ctx) {
      const uidMappings = [
        { containerID: 0, hostID: 100000, size: 1000 },
        { containerID: 1000, hostID: 300000, size: 64536 },
      ];
      const gidMappings = [
        { containerID: 0, hostID: 200000, size: 5 },
        { containerID: 5, hostID: 400005, size: 1 },
        { containerID: 6, hostID: 200006, size: 65530 },
      ];
      const out = await ctx.probe(['cat', '/proc/self/uid_map', '+', 'cat', '/proc/self/gid_map'], (s) =>
        withUserns(s, uidMappings, gidMappings),
      );
      const lines = (text: string) =>
        text
          .trim()
          .split('\n')
          .map((l) => l.trim().split(/\s+/).map(Number));
      const want = (ms: typeof uidMappings) => ms.map((m) => [m.containerID, m.hostID, m.size]);
      assert.deepEqual(lines(out.text('cat', '/proc/self/uid_map')), want(uidMappings), 'uid_map: every mapping, in order');
      assert.deepEqual(lines(out.text('cat', '/proc/self/gid_map')), want(gidMappings), 'gid_map: every mapping, in order');
    },
  },
  {
    id: 'config-linux/user-namespace-host-ids',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote:
      'user: the container will be able to remap user and group IDs from the host to local users and groups within the container. (process.user: uid, gid, additionalGids in the container namespace)',
    requires: () => needsUserns(),
    async run(ctx) {
      const shared = ctx.tmpdir('userns-data');
      chownSync(shared, 100000, 100000);
      const out = await ctx.probe(['ids', '+', 'write', '/data/by-user', 'x', '+', 'cat', '/proc/self/setgroups'], (s, b) => {
        // Mount points are made beforehand: the rootfs belongs to the host's root, whom the
        // container's root cannot act for.
        mkdirSync(b.inRootfs('data'));
        withUserns(s, [{ containerID: 0, hostID: 100000, size: 65536 }]);
        if (s.process !== undefined) s.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 1002] };
        s.mounts?.push({ destination: '/data', type: 'bind', source: shared, options: ['rbind', 'rw'] });
        chmodSync(shared, 0o777);
      });
      const ids = out.kv('ids');
      for (const k of ['uid', 'euid', 'suid']) assert.equal(ids.get(k), '1000', `${k} inside the container`);
      for (const k of ['gid', 'egid', 'sgid']) assert.equal(ids.get(k), '1000', `${k} inside the container`);
      const groups = (ids.get('groups') ?? '')
        .split(',')
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => a - b);
      assert.deepEqual(
        groups.filter((g) => g !== 1000),
        [5, 1002],
        'additionalGids are set in the user namespace (setgroups allowed)',
      );
      assert.equal(out.value('write', '/data/by-user', 'x'), 'ok', 'writing to the bind mount');
      assert.equal(out.value('cat', '/proc/self/setgroups'), 'allow', 'setgroups of a runtime run as root');
      const st = statSync(join(shared, 'by-user'));
      assert.equal(`${st.uid}:${st.gid}`, '101000:101000', 'a file created by container uid 1000 is owned by host uid 101000');
    },
  },
  {
    id: 'config-linux/user-namespace-capabilities',
    doc: 'config-linux.md#namespaces',
    level: 'MUST',
    quote:
      "capabilities … specifies the sets of capabilities for the process (in a user namespace they are the namespace's: root of the container is not root of the host)",
    requires: () => needsUserns(),
    async run(ctx) {
      const hostOwned = ctx.tmpdir('userns-host');
      chmodSync(hostOwned, 0o755); // root:root, 0755: only the host's root may write
      const mapped = ctx.tmpdir('userns-mapped');
      chownSync(mapped, 100000, 100000);
      chmodSync(mapped, 0o700);
      const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_ADMIN'];
      const out = await ctx.probe(['caps', '+', 'write', '/host/x', 'y', '+', 'write', '/mapped/x', 'y'], (s, b) => {
        mkdirSync(b.inRootfs('host'));
        mkdirSync(b.inRootfs('mapped'));
        withUserns(s, [{ containerID: 0, hostID: 100000, size: 65536 }]);
        if (s.process !== undefined) {
          s.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
          s.process.noNewPrivileges = true;
        }
        s.mounts?.push({ destination: '/host', type: 'bind', source: hostOwned, options: ['rbind', 'rw'] });
        s.mounts?.push({ destination: '/mapped', type: 'bind', source: mapped, options: ['rbind', 'rw'] });
      });
      const kv = out.kv('caps');
      const want = capMask(caps);
      for (const set of ['bounding', 'permitted', 'effective'] as const)
        assert.equal(BigInt(`0x${kv.get(set) ?? '0'}`), want, `${set} set: exactly the configured capabilities`);
      assert.equal(
        out.value('write', '/host/x', 'y'),
        'EACCES',
        'CAP_DAC_OVERRIDE of the container must not reach files of unmapped host users',
      );
      assert.equal(out.value('write', '/mapped/x', 'y'), 'ok', "files of the mapped root are the container root's");
    },
  },
  {
    id: 'config-linux/user-namespace-default-mounts-devices',
    doc: 'config-linux.md#default-devices',
    level: 'MUST',
    quote:
      'the following devices MUST be supplied: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty, /dev/console, /dev/ptmx (with a user namespace: mounts and devices as configured, read-only and masked paths kept)',
    requires: () => needsUserns(),
    async run(ctx) {
      const out = await ctx.probe(
        [
          ['stat', '/dev/null'],
          ['write', '/dev/null', 'x'],
          ['read', '/dev/zero'],
          ['read', '/dev/urandom'],
          ['stat', '/dev/tty'],
          ['readlink', '/dev/ptmx'],
          ['ls', '/proc/acpi'],
          ['mounts'],
        ].flatMap((a, i) => (i === 0 ? a : ['+', ...a])),
        (s) => withUserns(s, [{ containerID: 0, hostID: 100000, size: 65536 }]),
      );
      const dev = (p: string) => {
        const st = out.kv('stat', p);
        return `${st.get('type')} ${st.get('major')}:${st.get('minor')}`;
      };
      assert.equal(dev('/dev/null'), 'char 1:3', '/dev/null');
      assert.equal(out.value('write', '/dev/null', 'x'), 'ok');
      assert.equal(out.value('read', '/dev/zero'), 'ok');
      assert.equal(out.value('read', '/dev/urandom'), 'ok');
      assert.equal(dev('/dev/tty'), 'char 5:0', '/dev/tty');
      assert.equal(out.value('readlink', '/dev/ptmx'), 'pts/ptmx');
      assert.deepEqual(out.lines('ls', '/proc/acpi'), [], 'maskedPaths stay masked');
      const mounts = parseMountinfo(out.text('mounts'));
      // The files of /proc/sys belong to the host's root: a write fails with EACCES before EROFS.
      assert.ok(mountAt(mounts, '/proc/sys')?.options.includes('ro'), 'readonlyPaths stay read-only (/proc/sys mounted ro)');
      for (const [dest, type] of [
        ['/proc', 'proc'],
        ['/dev', 'tmpfs'],
        ['/dev/pts', 'devpts'],
        ['/dev/shm', 'tmpfs'],
        ['/dev/mqueue', 'mqueue'],
        ['/sys', 'sysfs'],
      ] as const)
        assert.equal(mountAt(mounts, dest)?.fsType, type, `${dest}: ${type} mounted in the user namespace`);
      assert.ok(mountAt(mounts, '/')?.options.includes('ro'), 'root.readonly holds in the user namespace');
    },
  },

  // ---------------------------------------------------------------- devices
  {
    id: 'config-linux/devices',
    doc: 'config-linux.md#devices',
    level: 'MUST',
    quote:
      'devices (array of objects, OPTIONAL) lists devices that MUST be available in the container. (type, path, major, minor, fileMode, uid, gid)',
    async run(ctx) {
      const out = await ctx.probe(
        ['stat', '/dev/berth-null', '+', 'read', '/dev/berth-null', '+', 'write', '/dev/berth-null', 'x', '+', 'stat', '/dev/berth-fifo'],
        (s) => {
          if (s.linux === undefined) return;
          s.linux.devices = [
            { path: '/dev/berth-null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 1, gid: 2 },
            { path: '/dev/berth-fifo', type: 'p', fileMode: 0o600, uid: 0, gid: 0 },
          ];
        },
      );
      const st = out.kv('stat', '/dev/berth-null');
      assert.equal(st.get('type'), 'char');
      assert.equal(`${st.get('major')}:${st.get('minor')}`, '1:3', 'major:minor');
      assert.equal(st.get('mode'), '0666', 'fileMode');
      assert.equal(st.get('uid'), '1', 'uid');
      assert.equal(st.get('gid'), '2', 'gid');
      assert.equal(out.value('read', '/dev/berth-null'), 'ok', 'the device must be usable (read)');
      assert.equal(out.value('write', '/dev/berth-null', 'x'), 'ok', 'the device must be usable (write)');
      const fifo = out.kv('stat', '/dev/berth-fifo');
      assert.equal(fifo.get('type'), 'fifo');
      assert.equal(fifo.get('mode'), '0600');
    },
  },
  {
    id: 'config-linux/devices-path-conflict',
    doc: 'config-linux.md#devices',
    level: 'MUST',
    quote: 'If a file already exists at path that does not match the requested device, the runtime MUST generate an error.',
    async run(ctx) {
      const b = await sleeperBundle(ctx, (s) => {
        // /etc/hostname is a regular file in the rootfs.
        if (s.linux !== undefined) s.linux.devices = [{ path: '/etc/hostname', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
      });
      const id = ctx.id();
      expectFailure((await create(ctx.rt, b, id)).result, 'create with a device over an existing regular file');
      assert.equal(await statusOrAbsent(ctx.rt, id), 'absent');
    },
  },
  {
    id: 'config-linux/default-devices',
    doc: 'config-linux.md#default-devices',
    level: 'MUST',
    quote:
      'In addition to any devices configured with this setting, the runtime MUST also supply: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty, … /dev/ptmx',
    async run(ctx) {
      const devs: [string, string][] = [
        ['/dev/null', '1:3'],
        ['/dev/zero', '1:5'],
        ['/dev/full', '1:7'],
        ['/dev/random', '1:8'],
        ['/dev/urandom', '1:9'],
        ['/dev/tty', '5:0'],
      ];
      const args: string[][] = devs.map(([p]) => ['stat', p]);
      args.push(
        ['stat', '-L', '/dev/ptmx'],
        ['read', '/dev/zero'],
        ['read', '/dev/urandom'],
        ['write', '/dev/null', 'x'],
        ['write', '/dev/full', 'x'],
      );
      const out = await ctx.probe(args.flatMap((a, i) => (i === 0 ? a : ['+', ...a])));
      for (const [p, mm] of devs) {
        const st = out.kv('stat', p);
        assert.equal(st.get('type'), 'char', `${p} must be a character device`);
        assert.equal(`${st.get('major')}:${st.get('minor')}`, mm, `${p} major:minor`);
      }
      const ptmx = out.kv('stat', '-L', '/dev/ptmx');
      assert.equal(ptmx.get('type'), 'char', '/dev/ptmx must lead to a character device');
      assert.equal(`${ptmx.get('major')}:${ptmx.get('minor')}`, '5:2', '/dev/ptmx must be the container devpts ptmx (5:2)');
      assert.equal(out.value('read', '/dev/zero'), 'ok', 'read /dev/zero');
      assert.equal(out.value('read', '/dev/urandom'), 'ok', 'read /dev/urandom');
      assert.equal(out.value('write', '/dev/null', 'x'), 'ok', 'write /dev/null');
      assert.equal(out.value('write', '/dev/full', 'x'), 'ENOSPC', 'write /dev/full must fail with ENOSPC');
    },
  },
  {
    id: 'runtime-linux/dev-symlinks',
    doc: 'runtime-linux.md#dev-symbolic-links',
    level: 'MUST',
    quote:
      'While creating the container (step 2 in the lifecycle), runtimes MUST create the following symlinks if the source file exists after processing mounts: /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr',
    async run(ctx) {
      const links: [string, string][] = [
        ['/dev/fd', '/proc/self/fd'],
        ['/dev/stdin', '/proc/self/fd/0'],
        ['/dev/stdout', '/proc/self/fd/1'],
        ['/dev/stderr', '/proc/self/fd/2'],
      ];
      const out = await ctx.probe(links.flatMap(([p], i) => (i === 0 ? ['readlink', p] : ['+', 'readlink', p])));
      for (const [p, target] of links) assert.equal(out.value('readlink', p), target, p);
    },
  },
  {
    id: 'runtime-linux/file-descriptors',
    doc: 'runtime-linux.md#file-descriptors',
    level: 'MUST',
    quote: 'By default, only the stdin, stdout and stderr file descriptors are kept open for the application by the runtime.',
    async run(ctx) {
      const out = await ctx.probe(['fds']);
      const fds = [...out.kv('fds').keys()];
      assert.deepEqual(fds, ['0', '1', '2'], `open fds: ${out.text('fds')}`);
    },
  },
  {
    id: 'config-linux/default-filesystems',
    doc: 'config-linux.md#default-filesystems',
    level: 'SHOULD',
    quote:
      "The following filesystems SHOULD be made available in each container's filesystem: /proc proc, /sys sysfs, /dev/pts devpts, /dev/shm tmpfs",
    async run(ctx) {
      const out = await ctx.probe(['mounts']);
      const mounts = parseMountinfo(out.text('mounts'));
      for (const [p, fs] of [
        ['/proc', 'proc'],
        ['/sys', 'sysfs'],
        ['/dev/pts', 'devpts'],
        ['/dev/shm', 'tmpfs'],
      ] as const) {
        assert.equal(mountAt(mounts, p)?.fsType, fs, `${p} must be ${fs}`);
      }
    },
  },

  // ----------------------------------------------------------------- cgroups
  {
    id: 'config-linux/cgroups-path-absolute',
    doc: 'config-linux.md#cgroups-path',
    level: 'MUST',
    quote:
      "In the case of an absolute path (starting with /), the runtime MUST take the path to be relative to the cgroups mount point. … The cgroups will be created if they don't exist.",
    requires: () => needsCgroupController('pids'),
    async run(ctx) {
      const id = ctx.id('cg');
      const path = uniqueCgroupPath(ctx, id);
      const b = await sleeperBundle(ctx, (s) => {
        s.linux = { ...s.linux, cgroupsPath: path, resources: { ...s.linux?.resources, pids: { limit: 64 } } };
      });
      const c = await created(ctx, b, id);
      const mine = cgroupsOf('self');
      const theirs = cgroupsOf(c.pid());
      const layout = cgroupLayout();
      if (layout === 'v2') {
        assert.equal(theirs.get(''), path, 'the container cgroup');
      } else {
        assert.equal(theirs.get('pids'), path, 'pids: the container cgroup (resources.pids is set)');
        for (const [ctrl, p] of theirs) {
          if (ctrl === '' || ctrl.startsWith('name=')) continue;
          assert.ok(p === path || p === mine.get(ctrl), `${ctrl}: the container is in ${p}, neither ${path} nor the runtime's own cgroup`);
        }
      }
      for (const [ctrl, dir] of cgroupDirsOf(c.pid())) {
        if (theirs.get(ctrl) === path) assert.ok(existsSync(dir), `${dir} must exist`);
      }
    },
  },
  {
    id: 'config-linux/cgroups-path-relative-consistent',
    doc: 'config-linux.md#cgroups-path',
    level: 'MUST',
    quote:
      'In the case of a relative path (not starting with /), the runtime MAY interpret the path relative to a runtime-determined location … If the value is specified, the runtime MUST consistently attach to the same place in the cgroups hierarchy given the same value of cgroupsPath.',
    requires: () => needsCgroupController('pids'),
    async run(ctx) {
      const top = `berth-conformance-${ctx.id('rel')}`;
      ctx.finally(() => removeCgroupTreesNamed(top));
      const rel = `${top}/leaf`;
      const seen: Map<string, string>[] = [];
      for (let i = 0; i < 2; i++) {
        const b = await sleeperBundle(ctx, (s) => {
          s.linux = { ...s.linux, cgroupsPath: rel, resources: { ...s.linux?.resources, pids: { limit: 64 } } };
        });
        const c = await created(ctx, b);
        const cg = cgroupsOf(c.pid());
        seen.push(cg);
        const key = cgroupLayout() === 'v2' ? '' : 'pids';
        assert.ok(cg.get(key)?.endsWith(`/${rel}`), `${key || 'v2'}: the cgroup ${cg.get(key)} must end with ${rel}`);
        expectSuccess(await ctx.rt.run(['delete', '--force', c.id]), 'delete --force');
      }
      assert.deepEqual([...(seen[1] ?? [])], [...(seen[0] ?? [])], 'the same cgroupsPath must give the same cgroups');
    },
  },
  {
    id: 'config-linux/cgroups-pids-limit',
    doc: 'config-linux.md#pids',
    level: 'MUST',
    quote: 'limit (int64, REQUIRED) - specifies the maximum number of tasks in the cgroup',
    requires: () => needsCgroupController('pids'),
    async run(ctx) {
      const id = ctx.id('pids');
      const b = await sleeperBundle(ctx, (s) => {
        s.linux = { ...s.linux, cgroupsPath: uniqueCgroupPath(ctx, id), resources: { ...s.linux?.resources, pids: { limit: 42 } } };
      });
      const c = await created(ctx, b, id);
      assert.equal(readTrim(cgroupFile(c.pid(), 'pids', 'pids.max', 'pids.max')), '42');
    },
  },
  {
    id: 'config-linux/cgroups-memory-limit',
    doc: 'config-linux.md#memory',
    level: 'MUST',
    quote: 'limit (int64, OPTIONAL) - sets limit of memory usage',
    requires: () => needsCgroupController('memory'),
    async run(ctx) {
      const id = ctx.id('mem');
      const limit = 64 * 1024 * 1024;
      const b = await sleeperBundle(ctx, (s) => {
        s.linux = { ...s.linux, cgroupsPath: uniqueCgroupPath(ctx, id), resources: { ...s.linux?.resources, memory: { limit } } };
      });
      const c = await created(ctx, b, id);
      assert.equal(readTrim(cgroupFile(c.pid(), 'memory', 'memory.limit_in_bytes', 'memory.max')), String(limit));
    },
  },

  {
    id: 'config-linux/cgroups-memory-reservation',
    doc: 'config-linux.md#memory',
    level: 'MUST',
    quote: 'reservation (int64, OPTIONAL) - sets soft limit of memory usage',
    requires: () => needsCgroupController('memory'),
    async run(ctx) {
      const id = ctx.id('memres');
      const reservation = 32 * 1024 * 1024;
      const b = await sleeperBundle(ctx, (s) => {
        s.linux = {
          ...s.linux,
          cgroupsPath: uniqueCgroupPath(ctx, id),
          resources: { ...s.linux?.resources, memory: { limit: 2 * reservation, reservation } },
        };
      });
      const c = await created(ctx, b, id);
      assert.equal(readTrim(cgroupFile(c.pid(), 'memory', 'memory.soft_limit_in_bytes', 'memory.low')), String(reservation));
    },
  },
  {
    id: 'config-linux/cgroups-cpu',
    doc: 'config-linux.md#cpu',
    level: 'MUST',
    quote:
      'quota (int64, OPTIONAL) - specifies the total amount of time in microseconds for which all tasks in a cgroup can run during one period',
    requires: () => needsCgroupController('cpu'),
    async run(ctx) {
      const id = ctx.id('cpu');
      const b = await sleeperBundle(ctx, (s) => {
        s.linux = {
          ...s.linux,
          cgroupsPath: uniqueCgroupPath(ctx, id),
          resources: { ...s.linux?.resources, cpu: { shares: 512, quota: 50000, period: 100000 } },
        };
      });
      const c = await created(ctx, b, id);
      if (cgroupLayout() === 'v2') {
        assert.equal(readTrim(cgroupFile(c.pid(), 'cpu', '', 'cpu.max')), '50000 100000');
        return;
      }
      assert.equal(readTrim(cgroupFile(c.pid(), 'cpu', 'cpu.shares', '')), '512');
      assert.equal(readTrim(cgroupFile(c.pid(), 'cpu', 'cpu.cfs_quota_us', '')), '50000');
      assert.equal(readTrim(cgroupFile(c.pid(), 'cpu', 'cpu.cfs_period_us', '')), '100000');
    },
  },
  {
    id: 'config-linux/cgroups-cpuset',
    doc: 'config-linux.md#cpu',
    level: 'MUST',
    quote:
      'cpus (string, OPTIONAL) - list of CPUs the container will run on; mems (string, OPTIONAL) - list of memory nodes the container will run on',
    requires: () => needsCgroupController('cpuset'),
    async run(ctx) {
      const id = ctx.id('cpuset');
      const b = await sleeperBundle(ctx, (s) => {
        s.linux = {
          ...s.linux,
          cgroupsPath: uniqueCgroupPath(ctx, id),
          resources: { ...s.linux?.resources, cpu: { cpus: '0', mems: '0' } },
        };
      });
      const c = await created(ctx, b, id);
      assert.equal(readTrim(cgroupFile(c.pid(), 'cpuset', 'cpuset.cpus', 'cpuset.cpus')), '0');
      assert.equal(readTrim(cgroupFile(c.pid(), 'cpuset', 'cpuset.mems', 'cpuset.mems')), '0');
      assert.match(readFileSync(`/proc/${c.pid()}/status`, 'utf8'), /^Cpus_allowed_list:\s+0$/m, 'the process may only run on CPU 0');
    },
  },
  {
    id: 'config-linux/cgroups-blkio-throttle',
    doc: 'config-linux.md#block-io',
    level: 'MUST',
    quote:
      'throttleReadBpsDevice, throttleWriteBpsDevice (array of objects, OPTIONAL) - specify the list of devices which will be bandwidth rate limited',
    requires: () => needsCgroupController(cgroupLayout() === 'v2' ? 'io' : 'blkio'),
    async run(ctx) {
      // A real block device of this host (a whole disk: throttling refuses partitions).
      const disk = ['vda', 'sda', 'nvme0n1', 'xvda'].find((d) => existsSync(`/sys/block/${d}/dev`));
      if (disk === undefined) throw new SkipCheck('needs a whole-disk block device (vda, sda, nvme0n1 or xvda)');
      const [major, minor] = readTrim(`/sys/block/${disk}/dev`).split(':').map(Number) as [number, number];
      const id = ctx.id('blkio');
      const b = await sleeperBundle(ctx, (s) => {
        s.linux = {
          ...s.linux,
          cgroupsPath: uniqueCgroupPath(ctx, id),
          resources: { ...s.linux?.resources, blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }] } },
        };
      });
      const c = await created(ctx, b, id);
      if (cgroupLayout() === 'v2') {
        assert.match(readFileSync(cgroupFile(c.pid(), 'io', '', 'io.max'), 'utf8'), new RegExp(`^${major}:${minor} rbps=1048576 `, 'm'));
      } else {
        assert.match(
          readFileSync(cgroupFile(c.pid(), 'blkio', 'blkio.throttle.read_bps_device', ''), 'utf8'),
          new RegExp(`^${major}:${minor} 1048576$`, 'm'),
        );
      }
    },
  },
  {
    id: 'config-linux/cgroups-devices',
    doc: 'config-linux.md#device-allowlist',
    level: 'MUST',
    quote: 'devices (array of objects, OPTIONAL) configures the device allowlist. The runtime MUST apply entries in the listed order.',
    requires: () => needsCgroupController('devices') ?? (existsSync('/dev/kmsg') ? undefined : 'needs /dev/kmsg on the host'),
    async run(ctx) {
      // /dev/kmsg (c 1:11) is created in the container but not in the default allowlist:
      // opening it is refused by the device cgroup until a rule allows it.
      const kmsg = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o200, uid: 0, gid: 0 };
      const denied = await ctx.probe(['write', '/dev/kmsg', 'berth-conformance: devices check (denied)'], (s) => {
        s.linux = { ...s.linux, devices: [kmsg] };
      });
      assert.equal(denied.value('write', '/dev/kmsg', 'berth-conformance: devices check (denied)'), 'EPERM');
      const allowed = await ctx.probe(['write', '/dev/kmsg', 'berth-conformance: devices check (allowed)'], (s) => {
        const rules = s.linux?.resources?.devices ?? [];
        s.linux = {
          ...s.linux,
          devices: [kmsg],
          resources: { ...s.linux?.resources, devices: [...rules, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }] },
        };
      });
      assert.equal(allowed.value('write', '/dev/kmsg', 'berth-conformance: devices check (allowed)'), 'ok');
    },
  },

  // ------------------------------------------------------------------ sysctl
  {
    id: 'config-linux/sysctl',
    doc: 'config-linux.md#sysctl',
    level: 'MUST',
    quote: 'sysctl (object, OPTIONAL) allows kernel parameters to be modified at runtime for the container.',
    async run(ctx) {
      const sysctl = { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256', 'kernel.shmmax': '123456789' };
      const host = Object.keys(sysctl).map((k) => readTrim(`/proc/sys/${k.replace(/\./g, '/')}`));
      const out = await ctx.probe(
        Object.keys(sysctl).flatMap((k, i) => (i === 0 ? ['sysctl', k] : ['+', 'sysctl', k])),
        (s) => {
          if (s.linux !== undefined) s.linux.sysctl = sysctl;
        },
      );
      for (const [k, v] of Object.entries(sysctl)) assert.equal(out.value('sysctl', k), v, k);
      const after = Object.keys(sysctl).map((k) => readTrim(`/proc/sys/${k.replace(/\./g, '/')}`));
      assert.deepEqual(after, host, 'the host values must not change (namespaced sysctls)');
    },
  },

  // ------------------------------------------------------------------ seccomp
  {
    id: 'config-linux/seccomp-errno',
    doc: 'config-linux.md#seccomp',
    level: 'MUST',
    quote: 'errnoRet (uint, OPTIONAL) - the errno return code to use. … If not specified its default value is EPERM.',
    async run(ctx) {
      const out = await ctx.probe(['cwd', '+', 'mkdir', '/tmp/x', '+', 'hostname'], (s) => {
        if (s.linux === undefined) return;
        s.linux.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
          syscalls: [
            { names: ['getcwd'], action: 'SCMP_ACT_ERRNO' },
            { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
          ],
        };
      });
      assert.equal(out.value('cwd'), 'error=EPERM', 'getcwd must fail with the default errno EPERM');
      assert.equal(out.value('mkdir', '/tmp/x'), 'EACCES', 'mkdir must fail with errnoRet 13');
      assert.equal(out.value('hostname'), 'runc', 'other syscalls must be allowed');
    },
  },

  // ------------------------------------------------------ masked / read-only
  {
    id: 'config-linux/masked-paths',
    doc: 'config-linux.md#masked-paths',
    level: 'MUST',
    quote: 'maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so that they cannot be read.',
    async run(ctx) {
      const procFiles = ['/proc/keys', '/proc/timer_list'].filter((p) => existsSync(p));
      const args = [
        ['head', '/masked-file', '100'],
        ['ls', '/masked-dir'],
        ['ls', '/proc/acpi'],
        ...procFiles.map((p) => ['head', p, '100']),
      ];
      const out = await ctx.probe(
        args.flatMap((a, i) => (i === 0 ? a : ['+', ...a])),
        (s, b) => {
          writeFileSync(b.inRootfs('masked-file'), 'secret\n');
          mkdirSync(b.inRootfs('masked-dir'));
          writeFileSync(b.inRootfs('masked-dir/inside'), 'secret\n');
          if (s.linux !== undefined) s.linux.maskedPaths = ['/masked-file', '/masked-dir', '/proc/acpi', ...procFiles];
        },
      );
      const unreadable = (lines: readonly string[], what: string) =>
        assert.ok(
          lines.length === 0 || (lines.length === 1 && lines[0]?.startsWith('error=')),
          `${what} must not be readable: ${JSON.stringify(lines)}`,
        );
      unreadable(out.lines('head', '/masked-file', '100'), '/masked-file');
      unreadable(out.lines('ls', '/masked-dir'), '/masked-dir');
      unreadable(out.lines('ls', '/proc/acpi'), '/proc/acpi');
      for (const p of procFiles) unreadable(out.lines('head', p, '100'), p);
    },
  },
  {
    id: 'config-linux/readonly-paths',
    doc: 'config-linux.md#readonly-paths',
    level: 'MUST',
    quote: 'readonlyPaths (array of strings, OPTIONAL) will set the provided paths as readonly inside the container.',
    async run(ctx) {
      const procFiles = ['/proc/sysrq-trigger'].filter((p) => existsSync(p));
      const out = await ctx.probe(
        [
          ['write', '/ro-dir/new', 'x'],
          ['read', '/ro-dir/file'],
          ['write', '/rw-dir/new', 'x'],
          ['write', '/proc/sys/kernel/domainname'],
          ...procFiles.map((p) => ['write', p]),
        ].flatMap((a, i) => (i === 0 ? a : ['+', ...a])),
        (s, b) => {
          mkdirSync(b.inRootfs('ro-dir'));
          mkdirSync(b.inRootfs('rw-dir'));
          writeFileSync(b.inRootfs('ro-dir/file'), 'x');
          s.root = { path: 'rootfs', readonly: false };
          if (s.linux !== undefined) s.linux.readonlyPaths = ['/ro-dir', '/proc/sys', ...procFiles];
        },
      );
      assert.equal(out.value('write', '/ro-dir/new', 'x'), 'EROFS', 'a read-only path must refuse writes');
      assert.equal(out.value('read', '/ro-dir/file'), 'ok', 'a read-only path stays readable');
      assert.equal(out.value('write', '/rw-dir/new', 'x'), 'ok', 'other paths stay writable');
      assert.equal(out.value('write', '/proc/sys/kernel/domainname'), 'EROFS', '/proc/sys must be read-only');
      for (const p of procFiles) assert.equal(out.value('write', p), 'EROFS', `${p} must be read-only`);
    },
  },

  // ------------------------------------------------------- rootfs propagation
  propagationCheck('shared', 'shared: the rootfs mount belongs to a new peer group.'),
  propagationCheck('slave', 'slave: the rootfs mount receives propagation events from the host … but not the other way around.'),
  propagationCheck('private', "private: the rootfs mount doesn't receive mount propagation events from the host …"),
  propagationCheck('unbindable', 'unbindable: the rootfs mount is a private mount that cannot be bind-mounted.'),
  plainPropagationCheck('shared'),
  plainPropagationCheck('unbindable'),
];
