/**
 * Architectures as seccomp sees them: the AUDIT_ARCH_* value the kernel puts in
 * seccomp_data.arch, and the system call table of each ABI. Pure (the native architecture comes
 * from `process.arch`, a constant).
 */
import { BerthError } from '../../common/errors.js';
import { SYSCALL_TEXT } from './syscalls.generated.js';

// linux/audit.h: EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000)
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_ARM = 0x40000028;

/** x32 shares AUDIT_ARCH_X86_64; its system call numbers carry this bit (asm/unistd.h). */
export const X32_SYSCALL_BIT = 0x40000000;

/** The hosts Berth compiles filters for (the kernel architecture, as `uname -m` names it). */
export type TargetArch = 'x86_64' | 'aarch64';

export type AbiName = 'x86_64' | 'x32' | 'i386' | 'aarch64' | 'arm';

export interface Abi {
  name: AbiName;
  /** seccomp_data.arch for this ABI. */
  audit: number;
  /** Argument width: 32-bit ABIs compare only the low word of an argument (as libseccomp). */
  bits: 32 | 64;
}

export const ABIS: Record<AbiName, Abi> = {
  x86_64: { name: 'x86_64', audit: AUDIT_ARCH_X86_64, bits: 64 },
  x32: { name: 'x32', audit: AUDIT_ARCH_X86_64, bits: 64 },
  i386: { name: 'i386', audit: AUDIT_ARCH_I386, bits: 32 },
  aarch64: { name: 'aarch64', audit: AUDIT_ARCH_AARCH64, bits: 64 },
  arm: { name: 'arm', audit: AUDIT_ARCH_ARM, bits: 32 },
};

const tables = new Map<AbiName, ReadonlyMap<string, number>>();

/** System call name → number for an ABI (from the kernel headers: syscalls.generated.ts). */
export function syscallTable(abi: AbiName): ReadonlyMap<string, number> {
  let t = tables.get(abi);
  if (t === undefined) {
    const m = new Map<string, number>();
    for (const line of SYSCALL_TEXT[abi].split('\n')) {
      const [first, ...names] = line.split(' ');
      if (!first) continue;
      let nr = Number(first);
      for (const name of names) m.set(name, nr++);
    }
    t = m;
    tables.set(abi, t);
  }
  return t;
}

/** The ABIs a process can use on each host: the native one first. */
export const TARGET_ABIS: Record<TargetArch, AbiName[]> = {
  x86_64: ['x86_64', 'i386', 'x32'],
  aarch64: ['aarch64', 'arm'],
};

/**
 * The `linux.seccomp.architectures` names (runtime-spec, libseccomp's SCMP_ARCH_*). Those that no
 * process on this host can use (a MIPS ABI on x86_64) are accepted and left out of the filter:
 * the kernel never reports them here.
 */
export const SCMP_ARCHES: Record<string, AbiName | undefined> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X86: 'i386',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_MIPS: undefined,
  SCMP_ARCH_MIPS64: undefined,
  SCMP_ARCH_MIPS64N32: undefined,
  SCMP_ARCH_MIPSEL: undefined,
  SCMP_ARCH_MIPSEL64: undefined,
  SCMP_ARCH_MIPSEL64N32: undefined,
  SCMP_ARCH_PPC: undefined,
  SCMP_ARCH_PPC64: undefined,
  SCMP_ARCH_PPC64LE: undefined,
  SCMP_ARCH_S390: undefined,
  SCMP_ARCH_S390X: undefined,
  SCMP_ARCH_PARISC: undefined,
  SCMP_ARCH_PARISC64: undefined,
  SCMP_ARCH_RISCV64: undefined,
  SCMP_ARCH_LOONGARCH64: undefined,
  SCMP_ARCH_M68K: undefined,
  SCMP_ARCH_SH: undefined,
  SCMP_ARCH_SHEB: undefined,
};

/** The architecture of this host, for which the runtime compiles filters. */
export function nativeSeccompArch(): TargetArch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new BerthError('not-implemented', `seccomp: filters for ${process.arch} hosts are not supported by this runtime`, {
    object: 'linux.seccomp',
  });
}
