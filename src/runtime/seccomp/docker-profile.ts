/**
 * Docker's seccomp profile format (moby's profiles/seccomp: `archMap`, and `includes`/`excludes`
 * on capabilities, architectures and kernel versions) turned into the runtime-spec's
 * `linux.seccomp` for one container, as dockerd does before it hands the spec to a runtime
 * (moby's setupSeccomp). Pure: the host facts come in as arguments.
 */
import { invalid } from '../../common/errors.js';
import type { TargetArch } from './arch.js';
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from './compile.js';

interface Filter {
  arches?: string[] | null;
  caps?: string[] | null;
  minKernel?: string;
}

export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: {
    name?: string;
    names?: string[];
    action: string;
    errnoRet?: number;
    args?: LinuxSeccompArg[] | null;
    comment?: string;
    includes?: Filter;
    excludes?: Filter;
  }[];
}

export interface DockerProfileContext {
  arch: TargetArch;
  /** The container's bounding capabilities (`CAP_…`). */
  capabilities: readonly string[];
  /** The running kernel's release (`uname -r`), for `minKernel`. */
  kernel: string;
}

/** Docker's names: GOARCH as libseccomp spells it, and the SCMP_ARCH_* of that. */
const DOCKER_ARCH: Record<TargetArch, { name: string; scmp: string }> = {
  x86_64: { name: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  aarch64: { name: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
};

function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string) => {
    const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v);
    if (!m) throw invalid(`seccomp profile: bad kernel version '${v}'`, v);
    return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  };
  const have = parse(kernel);
  const want = parse(min);
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i]! > want[i]!;
  return true;
}

/** undefined when the profile disables seccomp (no default action and no rules). */
export function dockerProfileToOci(profile: DockerSeccompProfile, ctx: DockerProfileContext): LinuxSeccomp | undefined {
  if (!profile.defaultAction && (profile.syscalls ?? []).length === 0) return undefined;
  if ((profile.architectures ?? []).length > 0 && (profile.archMap ?? []).length > 0)
    throw invalid("seccomp profile: 'architectures' and 'archMap' were both specified, use either", 'archMap');
  const arch = DOCKER_ARCH[ctx.arch];
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const architectures = [...(profile.architectures ?? [])];
  for (const m of profile.archMap ?? []) {
    if (m.architecture !== arch.scmp) continue;
    architectures.push(m.architecture, ...(m.subArchitectures ?? []));
    break;
  }
  if (architectures.length > 0) out.architectures = architectures;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  const has = (list: readonly string[] | null | undefined) => (list ?? []).length > 0;
  out.syscalls = [];
  for (const call of profile.syscalls ?? []) {
    const ex = call.excludes ?? {};
    const inc = call.includes ?? {};
    if (has(ex.arches) && ex.arches!.includes(arch.name)) continue;
    if (has(ex.caps) && ex.caps!.some((c) => ctx.capabilities.includes(c))) continue;
    if (ex.minKernel && kernelAtLeast(ctx.kernel, ex.minKernel)) continue;
    if (has(inc.arches) && !inc.arches!.includes(arch.name)) continue;
    if (has(inc.caps) && !inc.caps!.every((c) => ctx.capabilities.includes(c))) continue;
    if (inc.minKernel && !kernelAtLeast(ctx.kernel, inc.minKernel)) continue;
    if (call.name && call.names?.length)
      throw invalid("seccomp profile: 'name' and 'names' were both specified in a rule, use either", call.name);
    const rule: LinuxSyscall = {
      names: call.name ? [call.name] : [...(call.names ?? [])],
      action: call.action,
    };
    if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
    if (call.args?.length) rule.args = call.args.map((a) => ({ ...a }));
    out.syscalls.push(rule);
  }
  return out;
}
