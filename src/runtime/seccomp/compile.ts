/**
 * The OCI `linux.seccomp` object compiled to a classic BPF program, without libseccomp. Pure.
 *
 * The program behaves as the one runc builds with libseccomp (2.5) and then patches:
 *
 * - The native ABI is always filtered, whatever `architectures` lists (seccomp_init adds it);
 *   listed ABIs are added to it. A system call made through any other ABI gets libseccomp's
 *   "bad architecture" action, SCMP_ACT_KILL (kill the thread), not the default action.
 * - On x86_64, x32 system calls (numbers with bit 30 set) are part of AUDIT_ARCH_X86_64: without
 *   SCMP_ARCH_X32 they are killed like a bad architecture, except nr -1 (which tracers use to
 *   skip a call) that gets the default action; with it, they follow the x32 rules.
 * - runc's -ENOSYS stub: unless the default action is ALLOW, LOG or TRACE, a system call numbered
 *   above the highest one the profile names (for that ABI) fails with ENOSYS instead of getting
 *   the default action, so that programs fall back from system calls newer than the profile.
 * - Rules whose action is the default action are dropped (libseccomp refuses them). For each
 *   system call, the first unconditional rule wins over every other; otherwise the conditional
 *   rules are tried in the profile's order and the first whose comparisons all hold decides
 *   (libseccomp merges them into a tree: the same result for rules that do not overlap, which is
 *   how profiles use them). A rule that compares the same argument twice becomes one rule per
 *   comparison (ORed), as runc does.
 * - Arguments are compared as 64-bit values in two 32-bit halves (high word first) on 64-bit
 *   ABIs, and as their low 32 bits on 32-bit ABIs, as libseccomp does.
 * - Names unknown to an ABI's table are skipped for that ABI (runc ignores them too).
 *
 * The program dispatches on the system call number with a binary search over number ranges
 * (a few comparisons for any call), then runs the argument comparisons of that call, if any.
 */
import { BerthError, invalid } from '../../common/errors.js';
import { ABIS, type Abi, type AbiName, SCMP_ARCHES, syscallTable, TARGET_ABIS, type TargetArch, X32_SYSCALL_BIT } from './arch.js';
import { Asm, encodeProgram, type Label, type SockFilter } from './bpf.js';

// linux/seccomp.h
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

const EPERM = 1;
const ENOSYS = 38;

/** Offsets in struct seccomp_data (little-endian hosts). */
const DATA_NR = 0;
const DATA_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 16 + 8 * i + 4;

/** The runtime-spec's LinuxSeccomp, as the compiler reads it. */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}
export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}
export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface CompiledSeccomp {
  program: SockFilter[];
  /** The program as seccomp(2) takes it: 8 bytes per instruction, little-endian. */
  bytes: Buffer;
  /** Flags for seccomp(SECCOMP_SET_MODE_FILTER, flags, …). */
  flags: number;
  /** Names that no filtered ABI knows (skipped). */
  unknownSyscalls: string[];
}

/** For `features`: what this compiler understands. */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_LOG',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_TRAP',
];

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

type Op = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';
export const SECCOMP_OPERATORS = [
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_LE',
  'SCMP_CMP_LT',
  'SCMP_CMP_MASKED_EQ',
  'SCMP_CMP_NE',
];
export const SECCOMP_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

const OPS: Record<string, Op> = {
  SCMP_CMP_NE: 'NE',
  SCMP_CMP_LT: 'LT',
  SCMP_CMP_LE: 'LE',
  SCMP_CMP_EQ: 'EQ',
  SCMP_CMP_GE: 'GE',
  SCMP_CMP_GT: 'GT',
  SCMP_CMP_MASKED_EQ: 'MASKED_EQ',
};

interface Cmp {
  index: number;
  op: Op;
  /** The value compared with; for MASKED_EQ the datum (valueTwo), masked. */
  datum: bigint;
  /** MASKED_EQ: the mask (value); otherwise all ones. */
  mask: bigint;
}
interface Rule {
  action: number;
  cmps: Cmp[];
}
/** What one system call number does on one ABI. */
interface Entry {
  unconditional?: number;
  rules: Rule[];
}

const U64 = (1n << 64n) - 1n;
const fail = (field: string, what: string) => invalid(`config.json: ${field}: ${what}`, field);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function u64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v <= U64) return v;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fail(field, `expected an unsigned integer, got ${JSON.stringify(v)}`);
  // JSON numbers above 2^53 arrive rounded: refuse rather than compare with another value.
  if (!Number.isSafeInteger(v)) throw fail(field, `${v} is above 2^53 and cannot be read exactly from JSON by this runtime`);
  return BigInt(v);
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw fail(field, 'expected an array of strings');
  return v as string[];
}

/** The SECCOMP_RET_* value of an action. */
function actionValue(action: unknown, errnoRet: unknown, field: string, errnoField: string): number {
  if (typeof action !== 'string') throw fail(field, `expected a string, got ${JSON.stringify(action)}`);
  const data = (dflt: number) => {
    if (errnoRet === undefined || errnoRet === null) return dflt;
    if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > SECCOMP_RET_DATA)
      throw fail(errnoField, `expected an integer from 0 to 65535, got ${JSON.stringify(errnoRet)}`);
    return errnoRet;
  };
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET_TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET_ERRNO | data(EPERM)) >>> 0;
    case 'SCMP_ACT_TRACE':
      // runc's default trace value is EPERM too.
      return (SECCOMP_RET_TRACE | data(EPERM)) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET_ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET_LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new BerthError(
        'not-implemented',
        `config.json: ${field}: SCMP_ACT_NOTIFY (a seccomp user-space notification agent) is not supported by this runtime`,
        { object: field },
      );
    default:
      throw fail(field, `unknown action '${action}'`);
  }
}

/** Compiles `linux.seccomp` for a host of architecture `arch`. `field` names it in errors. */
export function compileSeccomp(input: unknown, arch: TargetArch, field = 'linux.seccomp'): CompiledSeccomp {
  if (!isObject(input)) throw fail(field, 'expected an object');
  const defaultAction = actionValue(input.defaultAction, input.defaultErrnoRet, `${field}.defaultAction`, `${field}.defaultErrnoRet`);

  // Flags. WAIT_KILLABLE_RECV only means something with a listener (SCMP_ACT_NOTIFY, which is
  // refused), and the kernel refuses it without one: libseccomp passes it only with a listener.
  let flags = 0;
  stringList(input.flags, `${field}.flags`).forEach((f, i) => {
    const bit = Object.hasOwn(FLAGS, f) ? FLAGS[f] : undefined;
    if (bit === undefined) throw fail(`${field}.flags[${i}]`, `unknown seccomp flag '${f}'`);
    if (bit !== SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) flags |= bit;
  });
  // listenerPath and listenerMetadata only serve SCMP_ACT_NOTIFY, refused with the action.
  if (input.listenerPath !== undefined && typeof input.listenerPath !== 'string') throw fail(`${field}.listenerPath`, 'expected a string');

  // ABIs: the native one, then the listed ones this host can run.
  const abis: AbiName[] = [TARGET_ABIS[arch][0]!];
  stringList(input.architectures, `${field}.architectures`).forEach((a, i) => {
    if (!Object.hasOwn(SCMP_ARCHES, a)) throw fail(`${field}.architectures[${i}]`, `unknown architecture '${a}'`);
    const abi = SCMP_ARCHES[a];
    if (abi !== undefined && TARGET_ABIS[arch].includes(abi) && !abis.includes(abi)) abis.push(abi);
  });

  // Rules, per ABI and system call number.
  const entries = new Map<AbiName, Map<number, Entry>>(abis.map((a) => [a, new Map()]));
  const highest = new Map<AbiName, number>();
  const known = new Set<string>();
  const named = new Set<string>();
  const syscalls = input.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw fail(`${field}.syscalls`, 'expected an array');
  syscalls.forEach((sc: unknown, i) => {
    const f = `${field}.syscalls[${i}]`;
    if (!isObject(sc)) throw fail(f, 'expected an object');
    const names = stringList(sc.names, `${f}.names`);
    names.forEach((n, j) => {
      if (n === '') throw fail(`${f}.names[${j}]`, 'empty system call name');
    });
    const action = actionValue(sc.action, sc.errnoRet, `${f}.action`, `${f}.errnoRet`);
    const args = sc.args ?? [];
    if (!Array.isArray(args)) throw fail(`${f}.args`, 'expected an array');
    const parsed = args.map((a: unknown, j) => parseArg(a, `${f}.args[${j}]`));
    // The same argument compared twice: runc adds one rule per comparison instead.
    const indexes = parsed.map((a) => a.index);
    const groups = new Set(indexes).size === indexes.length ? [parsed] : parsed.map((a) => [a]);
    for (const abi of abis) {
      const table = syscallTable(abi);
      const rules = groups.map((g) => ({ action, cmps: g.flatMap((a) => cmpFor(a, ABIS[abi])) }));
      for (const n of names) {
        named.add(n);
        const nr = table.get(n);
        if (nr === undefined) continue;
        known.add(n);
        if (nr > (highest.get(abi) ?? 0)) highest.set(abi, nr);
        // A rule with the default action is redundant: libseccomp refuses it, runc skips it.
        if (action !== defaultAction) for (const r of rules) addRule(entries.get(abi)!, nr, r);
      }
    }
  });

  // runc's -ENOSYS stub (patchbpf): not for permissive defaults, useless when the default is ENOSYS.
  const defaultType = (defaultAction & SECCOMP_RET_ACTION_FULL) >>> 0;
  const stub =
    ![SECCOMP_RET_ALLOW, SECCOMP_RET_LOG, SECCOMP_RET_TRACE].includes(defaultType) && defaultAction !== (SECCOMP_RET_ERRNO | ENOSYS) >>> 0;

  const program = generate(abis, entries, stub ? highest : new Map(), defaultAction);
  return {
    program,
    bytes: encodeProgram(program),
    flags,
    unknownSyscalls: [...named].filter((n) => !known.has(n)).sort(),
  };
}

interface Arg {
  index: number;
  op: Op;
  value: bigint;
  valueTwo: bigint;
}

function parseArg(a: unknown, f: string): Arg {
  if (!isObject(a)) throw fail(f, 'expected an object');
  const index = a.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5)
    throw fail(`${f}.index`, `expected an argument index from 0 to 5, got ${JSON.stringify(index)}`);
  if (typeof a.op !== 'string') throw fail(`${f}.op`, `expected a string, got ${JSON.stringify(a.op)}`);
  const op = Object.hasOwn(OPS, a.op) ? OPS[a.op] : undefined;
  if (op === undefined) throw fail(`${f}.op`, `unknown operator '${a.op}'`);
  return {
    index,
    op,
    value: u64(a.value ?? 0, `${f}.value`),
    valueTwo: a.valueTwo === undefined || a.valueTwo === null ? 0n : u64(a.valueTwo, `${f}.valueTwo`),
  };
}

/** The comparison for one ABI: none when it always holds (MASKED_EQ with a zero mask). */
function cmpFor(a: Arg, abi: Abi): Cmp[] {
  const width = abi.bits === 64 ? U64 : 0xffffffffn;
  if (a.op === 'MASKED_EQ') {
    const mask = a.value & width;
    return mask === 0n ? [] : [{ index: a.index, op: a.op, mask, datum: a.valueTwo & mask }];
  }
  return [{ index: a.index, op: a.op, mask: width, datum: a.value & width }];
}

function addRule(table: Map<number, Entry>, nr: number, rule: Rule): void {
  let e = table.get(nr);
  if (!e) {
    e = { rules: [] };
    table.set(nr, e);
  }
  if (e.unconditional !== undefined) return; // the first unconditional rule stays
  if (rule.cmps.length === 0) {
    e.unconditional = rule.action;
    e.rules = [];
  } else e.rules.push(rule);
}

/** One arch check of the program: ABIs sharing an AUDIT_ARCH (x86_64 and x32) share it. */
interface Section {
  audit: number;
  abis: AbiName[];
}

function generate(abis: AbiName[], entries: Map<AbiName, Map<number, Entry>>, highest: Map<AbiName, number>, defaultAction: number) {
  const asm = new Asm();
  const sections: Section[] = [];
  for (const a of abis) {
    const s = sections.find((x) => x.audit === ABIS[a].audit);
    if (s) s.abis.push(a);
    else sections.push({ audit: ABIS[a].audit, abis: [a] });
  }
  const starts = sections.map(() => asm.label());
  asm.load(DATA_ARCH);
  sections.forEach((s, i) => {
    const next = asm.label();
    asm.jump('jeq', s.audit, starts[i]!, next);
    asm.place(next);
  });
  asm.ret(SECCOMP_RET_KILL_THREAD); // libseccomp's default bad-architecture action
  sections.forEach((s, i) => {
    asm.place(starts[i]!);
    section(asm, s, entries, highest, defaultAction);
  });
  return asm.assemble();
}

function section(asm: Asm, s: Section, entries: Map<AbiName, Map<number, Entry>>, highest: Map<AbiName, number>, defaultAction: number) {
  const rets = new Map<number, Label>();
  const ret = (action: number) => {
    let l = rets.get(action);
    if (l === undefined) {
      l = asm.label();
      rets.set(action, l);
    }
    return l;
  };
  const dflt = ret(defaultAction);
  const enosys = () => ret((SECCOMP_RET_ERRNO | ENOSYS) >>> 0);
  const dispatch = asm.label();
  /** `if (nr > highest) return ENOSYS; goto dispatch` */
  const stubFor = (abi: AbiName) => {
    const max = highest.get(abi);
    if (max) asm.jump('jgt', max, enosys(), dispatch);
    else asm.goto(dispatch);
  };

  asm.load(DATA_NR);
  if (s.abis.includes('x86_64')) {
    if (s.abis.includes('x32')) {
      const x32 = asm.label();
      const x64 = asm.label();
      asm.jump('jset', X32_SYSCALL_BIT, x32, x64);
      asm.place(x32);
      stubFor('x32');
      asm.place(x64);
      stubFor('x86_64');
    } else {
      // x32 calls are a bad architecture here; nr -1 (a tracer skipping the call) is not.
      const high = asm.label();
      const low = asm.label();
      const bad = ret(SECCOMP_RET_KILL_THREAD);
      asm.jump('jge', X32_SYSCALL_BIT, high, low);
      asm.place(high);
      asm.jump('jeq', 0xffffffff, dflt, bad);
      asm.place(low);
      stubFor('x86_64');
    }
  } else stubFor(s.abis[0]!);

  // Targets per number, then ranges of numbers with the same target, searched in a tree.
  const targets = new Map<number, Label>();
  const chains: [Label, Entry, Abi][] = [];
  for (const abiName of s.abis) {
    for (const [nr, e] of entries.get(abiName)!) {
      if (e.unconditional !== undefined) targets.set(nr, ret(e.unconditional));
      else if (e.rules.length > 0) {
        const l = asm.label();
        targets.set(nr, l);
        chains.push([l, e, ABIS[abiName]]);
      }
    }
  }
  asm.place(dispatch);
  searchTree(asm, ranges(targets, dflt));

  for (const [label, e, abi] of chains) {
    asm.place(label);
    for (const rule of e.rules) {
      const next = asm.label();
      rule.cmps.forEach((c, i) => {
        const last = i === rule.cmps.length - 1;
        const pass = last ? ret(rule.action) : asm.label();
        compare(asm, c, abi.bits, pass, next);
        if (!last) asm.place(pass);
      });
      asm.place(next);
    }
    asm.goto(dflt);
  }
  for (const [action, label] of rets) {
    asm.place(label);
    asm.ret(action);
  }
}

interface Range {
  lo: number;
  target: Label;
}

/** The number space 0..2^32-1 cut into ranges of one target each, in order. */
function ranges(targets: Map<number, Label>, dflt: Label): Range[] {
  const out: Range[] = [];
  const push = (lo: number, target: Label) => {
    if (out.at(-1)?.target !== target) out.push({ lo, target });
  };
  let next = 0;
  for (const nr of [...targets.keys()].sort((a, b) => a - b)) {
    if (nr > next) push(next, dflt);
    push(nr, targets.get(nr)!);
    next = nr + 1;
  }
  if (next <= 0xffffffff) push(next, dflt);
  return out;
}

/** A binary search on the number in A over `rs`, jumping to each range's target. */
function searchTree(asm: Asm, rs: Range[]) {
  const emit = (i: number, j: number) => {
    const mid = (i + j + 1) >> 1;
    const left = mid - 1 === i ? rs[i]!.target : asm.label();
    const right = mid === j ? rs[j]!.target : asm.label();
    asm.jump('jge', rs[mid]!.lo, right, left);
    if (mid - 1 !== i) {
      asm.place(left);
      emit(i, mid - 1);
    }
    if (mid !== j) {
      asm.place(right);
      emit(mid, j);
    }
  };
  if (rs.length === 1) asm.goto(rs[0]!.target);
  else emit(0, rs.length - 1);
}

/** Jumps to `pass` if the argument comparison holds, else to `fail`. Clobbers A. */
function compare(asm: Asm, c: Cmp, bits: 32 | 64, pass: Label, failTo: Label) {
  const lo = Number(c.datum & 0xffffffffn);
  const hi = Number(c.datum >> 32n);
  const mlo = Number(c.mask & 0xffffffffn);
  const mhi = Number(c.mask >> 32n);
  if (bits === 32) {
    asm.load(argLo(c.index));
    switch (c.op) {
      case 'EQ':
        return asm.jump('jeq', lo, pass, failTo);
      case 'NE':
        return asm.jump('jeq', lo, failTo, pass);
      case 'GT':
        return asm.jump('jgt', lo, pass, failTo);
      case 'GE':
        return asm.jump('jge', lo, pass, failTo);
      case 'LT':
        return asm.jump('jge', lo, failTo, pass);
      case 'LE':
        return asm.jump('jgt', lo, failTo, pass);
      case 'MASKED_EQ':
        asm.and(mlo);
        return asm.jump('jeq', lo, pass, failTo);
    }
  }
  // 64 bits: the high word decides unless it is equal, then the low word does.
  const greater = (strict: boolean, yes: Label, no: Label) => {
    const eq = asm.label();
    const low = asm.label();
    asm.load(argHi(c.index));
    asm.jump('jgt', hi, yes, eq);
    asm.place(eq);
    asm.jump('jeq', hi, low, no);
    asm.place(low);
    asm.load(argLo(c.index));
    asm.jump(strict ? 'jgt' : 'jge', lo, yes, no);
  };
  const equal = (yes: Label, no: Label, masked: boolean) => {
    if (!masked || mhi !== 0) {
      const low = asm.label();
      asm.load(argHi(c.index));
      if (masked) asm.and(mhi);
      asm.jump('jeq', hi, low, no);
      asm.place(low);
    }
    if (!masked || mlo !== 0) {
      asm.load(argLo(c.index));
      if (masked) asm.and(mlo);
      asm.jump('jeq', lo, yes, no);
    } else asm.goto(yes);
  };
  switch (c.op) {
    case 'EQ':
      return equal(pass, failTo, false);
    case 'NE':
      return equal(failTo, pass, false);
    case 'MASKED_EQ':
      return equal(pass, failTo, true);
    case 'GT':
      return greater(true, pass, failTo);
    case 'GE':
      return greater(false, pass, failTo);
    case 'LT':
      return greater(false, failTo, pass);
    case 'LE':
      return greater(true, failTo, pass);
  }
}
