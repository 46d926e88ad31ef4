/**
 * Facts about the host that container creation needs (the effects side of src/engine/spec/):
 * CPUs, kernel, architecture, the last capability, device nodes for --privileged and --device.
 * Read once per daemon where they cannot change; devices are walked only when asked.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import path from 'node:path';
import { BerthError, fromErrno } from '../common/errors.js';
import { nativeSeccompArch, type TargetArch } from '../runtime/seccomp/arch.js';
import type { HostFacts } from './spec/create-config.js';
import type { HostDevice } from './spec/oci-spec.js';

export interface HostInfo {
  facts: HostFacts;
  arch: TargetArch;
  kernel: string;
  lastCap: number | undefined;
}

function readTrim(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether block I/O can be weighed here (moby's sysinfo BlkioWeight): v1's blkio.weight (CFQ)
 * or blkio.bfq.weight (BFQ), or cgroup v2 with the io controller. Not with mq-deadline or none
 * as every queue's scheduler (this VM): dockerd then discards --blkio-weight with a warning.
 */
function canWeighBlockIo(): boolean {
  if (['/sys/fs/cgroup/blkio/blkio.weight', '/sys/fs/cgroup/blkio/blkio.bfq.weight'].some((f) => existsSync(f))) return true;
  return (readTrim('/sys/fs/cgroup/cgroup.controllers') ?? '').split(' ').includes('io');
}

export function hostInfo(): HostInfo {
  const lastCap = Number(readTrim('/proc/sys/kernel/cap_last_cap'));
  return {
    facts: {
      ncpu: availableParallelism(),
      cpus: readTrim('/sys/devices/system/cpu/online'),
      mems: readTrim('/sys/devices/system/node/online') ?? '0',
      blkioWeight: canWeighBlockIo(),
    },
    arch: nativeSeccompArch(),
    kernel: release(),
    lastCap: Number.isInteger(lastCap) ? lastCap : undefined,
  };
}

function deviceOf(file: string): HostDevice | undefined {
  const st = statSync(file);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : undefined;
  if (!type) return undefined;
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn) | Number((BigInt(st.rdev) >> 32n) & ~0xfffn);
  const minor = Number(BigInt(st.rdev) & 0xffn) | Number((BigInt(st.rdev) >> 12n) & ~0xffn);
  return { type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Every device node under /dev, as moby's devices.HostDevices walks it (for --privileged). */
export function hostDevices(root = '/dev'): { path: string; device: HostDevice }[] {
  const out: { path: string; device: HostDevice }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      // moby skips these: pts and shm are mounted per container, the console is the container's
      if (p === '/dev/pts' || p === '/dev/shm' || p === '/dev/mqueue' || p === '/dev/console') continue;
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const d = deviceOf(p);
        if (d) out.push({ path: p, device: d });
      }
    }
  };
  walk(root);
  return out;
}

/**
 * major:minor of each block device path of --blkio-weight-device and --device-{read,write}-{bps,iops}
 * (a stat that follows links, as moby's getBlkioThrottleDevices).
 */
export function blockDeviceNumbers(paths: string[]): Record<string, { major: number; minor: number }> {
  const out: Record<string, { major: number; minor: number }> = {};
  for (const p of paths) {
    let d: HostDevice | undefined;
    try {
      d = deviceOf(p);
    } catch (err) {
      // the request names it: a bad request, not a missing object of ours
      throw new BerthError('invalid-argument', fromErrno('stat', p, err).message, { cause: err, object: p });
    }
    if (d?.type !== 'b') throw new BerthError('invalid-argument', `${p} is not a block device`, { object: p });
    out[p] = { major: d.major, minor: d.minor };
  }
  return out;
}

/** stat of each --device host path; a missing one is dockerd's error. */
export function deviceInfo(paths: string[]): Record<string, HostDevice> {
  const out: Record<string, HostDevice> = {};
  for (const p of paths) {
    try {
      const d = deviceOf(p);
      if (d) out[p] = d;
    } catch (err) {
      throw fromErrno('error gathering device information while adding custom device', p, err);
    }
  }
  return out;
}
