/**
 * OCI runtime config (config.json) as the tests use it.
 *
 * `defaultSpec()` returns exactly what `runc spec` (runc 1.1.5) prints (the
 * runtime's own default, so tests do not depend on one runtime's `spec` command);
 * test/conformance/default-spec.test.ts compares it with `runc spec`.
 * `testSpec()` is that spec made suitable for tests: no terminal, the probe as
 * the process.
 *
 * The types are deliberately loose (tests build invalid configs on purpose);
 * they name the fields the suite touches.
 */
import { defaultSpec as runtimeDefaultSpec } from '../../src/oci/default-spec.js';
import { CAPABILITIES as RUNTIME_CAPABILITIES } from '../../src/runtime/plan/capabilities.js';

export interface LinuxIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  [extra: string]: unknown;
}

export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Process {
  terminal?: boolean;
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  [extra: string]: unknown;
}

export interface Namespace {
  type: string;
  path?: string;
}

export interface LinuxDevice {
  path: string;
  type: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface Linux {
  resources?: {
    devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
    pids?: { limit: number };
    memory?: { limit?: number; reservation?: number; swap?: number };
    cpu?: Record<string, unknown>;
    [extra: string]: unknown;
  };
  namespaces?: Namespace[];
  uidMappings?: LinuxIdMapping[];
  gidMappings?: LinuxIdMapping[];
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  seccomp?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: {
    prestart?: Hook[];
    createRuntime?: Hook[];
    createContainer?: Hook[];
    startContainer?: Hook[];
    poststart?: Hook[];
    poststop?: Hook[];
  };
  annotations?: Record<string, string>;
  linux?: Linux;
  [extra: string]: unknown;
}

/** The path of the probe inside the test rootfs. */
export const PROBE = '/probe';

/**
 * runc 1.1.5's `runc spec` output: the runtime's own default (src/oci/default-spec.ts), which
 * test/conformance/default-spec.test.ts compares byte for byte with `runc spec`, seen through
 * the tests' looser types.
 */
export function defaultSpec(): Spec {
  return runtimeDefaultSpec() as unknown as Spec;
}

/** `defaultSpec()` serialized the way `runc spec` writes config.json (tabs, no final newline). */
export function defaultSpecText(): string {
  return JSON.stringify(defaultSpec(), null, '\t');
}

/**
 * The default test config: runc's default spec with `terminal: false` and the
 * probe as the process (`/probe` plus `probeArgs`, default `hostname`).
 */
export function testSpec(probeArgs: readonly string[] = ['hostname']): Spec {
  const spec = defaultSpec();
  const proc = spec.process;
  if (proc === undefined) throw new Error('unreachable: default spec has a process');
  proc.terminal = false;
  proc.args = [PROBE, ...probeArgs];
  return spec;
}

/** Host capability numbers (linux/capability.h), for decoding the probe's hex sets. */
export const CAPABILITIES: readonly string[] = RUNTIME_CAPABILITIES;

/** Bit mask of a list of capability names. */
export function capMask(names: readonly string[]): bigint {
  let m = 0n;
  for (const n of names) {
    const i = CAPABILITIES.indexOf(n);
    if (i < 0) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(i);
  }
  return m;
}

/** Capability names of a bit mask (unknown bits as CAP_<n>). */
export function capNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) {
    if ((mask >> BigInt(i)) & 1n) out.push(CAPABILITIES[i] ?? `CAP_${i}`);
  }
  return out;
}
