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
  const target = arch ?? nativeSeccompArch();
  // An engine compiles the same profile (Docker's default) for almost every container: the
  // program is a pure function of the profile and the arch, so the last few are kept. Only
  // successful compilations are, so a bad profile fails every time with its message.
  const key = `${target}\0${JSON.stringify(seccomp)}`;
  const hit = compiled.get(key);
  if (hit) {
    compiled.delete(key);
    compiled.set(key, hit);
    return { ...hit };
  }
  const c = compileSeccomp(seccomp, target);
  const plan = { flags: c.flags, program: c.bytes.toString('hex') };
  compiled.set(key, plan);
  if (compiled.size > COMPILED_KEPT) compiled.delete(compiled.keys().next().value as string);
  return { ...plan };
}

const COMPILED_KEPT = 16;
const compiled = new Map<string, PlanSeccomp>();
