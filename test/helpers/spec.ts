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
import { readFileSync } from 'node:fs';
import { defaultSpec as runtimeDefaultSpec } from '../../src/oci/default-spec.js';

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

/** Where the kernel's capability numbers are defined (Debian's linux-libc-dev). */
export const CAPABILITY_HEADER = '/usr/include/linux/capability.h';

/**
 * Capability names by bit number, read from the kernel's header (`#define CAP_CHOWN 0` …), never
 * from the runtime's own table: the tests decode what the probe reports with the kernel's numbers,
 * so two swapped entries in the runtime's table make a container test fail instead of agreeing
 * with themselves.
 */
export function kernelCapabilities(header = CAPABILITY_HEADER): string[] {
  let text: string;
  try {
    text = readFileSync(header, 'utf8');
  } catch (err) {
    throw new Error(`read '${header}' (Debian package linux-libc-dev, for the capability numbers): ${(err as Error).message}`);
  }
  const out: string[] = [];
  for (const m of text.matchAll(/^#define\s+(CAP_\w+)\s+(\d+)\s*$/gm)) {
    const [, name, n] = m as unknown as [string, string, string];
    out[Number(n)] = name;
  }
  if (out.length < 41 || out.some((n) => n === undefined)) throw new Error(`'${header}': no contiguous CAP_* numbers from 0`);
  return out;
}

/** Host capability numbers (linux/capability.h), for decoding the probe's hex sets. */
export const CAPABILITIES: readonly string[] = kernelCapabilities();

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
