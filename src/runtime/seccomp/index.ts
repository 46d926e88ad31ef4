/**
 * Seccomp without libseccomp: the runtime-spec's `linux.seccomp` compiled to a BPF program here,
 * loaded by berth-nsinit (docs/plan-format.md, record `seccomp`). `create` and `exec` both call
 * `planSeccomp`.
 */
import type { PlanSeccomp } from '../plan/plan.js';
import { nativeSeccompArch, type TargetArch } from './arch.js';
import { compileSeccomp } from './compile.js';

export { nativeSeccompArch, type TargetArch } from './arch.js';
export type { SockFilter } from './bpf.js';
export { type CompiledSeccomp, compileSeccomp, type LinuxSeccomp, type LinuxSeccompArg, type LinuxSyscall } from './compile.js';
export { type DockerProfileContext, type DockerSeccompProfile, dockerProfileToOci } from './docker-profile.js';

/** The plan's `seccomp` for a config's `linux.seccomp` (undefined: no filter). */
export function planSeccomp(seccomp: unknown, arch?: TargetArch): PlanSeccomp | undefined {
  if (seccomp === undefined || seccomp === null) return undefined;
  const c = compileSeccomp(seccomp, arch ?? nativeSeccompArch());
  return { flags: c.flags, program: c.bytes.toString('hex') };
}
