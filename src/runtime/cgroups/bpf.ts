/**
 * The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program, assembled here as bytes
 * and loaded by native/cgroup-bpf. Pure.
 *
 * The program has the shape of runc's and crun's: it loads the request (type, access, major,
 * minor) from `struct bpf_cgroup_dev_ctx`, then tries one block per exception of the emulated
 * device cgroup (devices.ts); a block that matches returns the exception's verdict, and the
 * last instruction returns the default. With a deny-all default an exception grants a request
 * when it covers all of the requested access; with an allow-all default it denies a request
 * that asks for any access it lists — the v1 kernel's two checks.
 */
import type { DeviceEmulator, DeviceException } from './devices.js';

/** include/uapi/linux/bpf.h */
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

/** One eBPF instruction (struct bpf_insn). */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// opcode pieces
const BPF_LDX = 0x01;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
/** 32-bit compares: majors and minors are u32, and a 64-bit compare would sign-extend the immediate. */
const BPF_JMP32 = 0x06;
const BPF_W = 0x00;
const BPF_MEM = 0x60;
const BPF_K = 0x00;
const BPF_X = 0x08;
const BPF_AND = 0x50;
const BPF_RSH = 0x70;
const BPF_MOV = 0xb0;
const BPF_JEQ = 0x10;
const BPF_JNE = 0x50;
const BPF_EXIT = 0x90;

const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R4 = 4;
const R5 = 5;

const ldxW = (dst: number, src: number, off: number): Insn => ({ code: BPF_LDX | BPF_MEM | BPF_W, dst, src, off, imm: 0 });
const alu32Imm = (op: number, dst: number, imm: number): Insn => ({ code: BPF_ALU | op | BPF_K, dst, src: 0, off: 0, imm });
const mov32Reg = (dst: number, src: number): Insn => ({ code: BPF_ALU | BPF_MOV | BPF_X, dst, src, off: 0, imm: 0 });
const jmpImm = (op: number, dst: number, imm: number, off: number): Insn => ({
  code: BPF_JMP32 | op | BPF_K,
  dst,
  src: 0,
  off,
  imm: imm | 0,
});
const jmpReg = (op: number, dst: number, src: number, off: number): Insn => ({ code: BPF_JMP32 | op | BPF_X, dst, src, off, imm: 0 });
const exit = (): Insn => ({ code: BPF_JMP | BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 });

export function accessBits(access: string): number {
  let bits = 0;
  if (access.includes('r')) bits |= BPF_DEVCG_ACC_READ;
  if (access.includes('w')) bits |= BPF_DEVCG_ACC_WRITE;
  if (access.includes('m')) bits |= BPF_DEVCG_ACC_MKNOD;
  return bits;
}

const ALL_ACCESS = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

/** A test that jumps past the block when the request does not match: `skip` is that distance. */
type Test = (skip: number) => Insn;

/** One block: the tests, then the verdict. */
function block(ex: DeviceException, defaultAllow: boolean): Insn[] {
  const tests: Test[] = [(skip) => jmpImm(BPF_JNE, R2, ex.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, skip)];
  const bits = accessBits(ex.access);
  if (bits !== ALL_ACCESS) {
    tests.push(() => mov32Reg(R1, R3));
    tests.push(() => alu32Imm(BPF_AND, R1, bits));
    if (defaultAllow) {
      // a denial applies when any requested bit is listed: skip when (access & bits) == 0
      tests.push((skip) => jmpImm(BPF_JEQ, R1, 0, skip));
    } else {
      // a grant applies when every requested bit is listed: skip when (access & bits) != access
      tests.push((skip) => jmpReg(BPF_JNE, R1, R3, skip));
    }
  }
  if (ex.major >= 0) tests.push((skip) => jmpImm(BPF_JNE, R4, ex.major, skip));
  if (ex.minor >= 0) tests.push((skip) => jmpImm(BPF_JNE, R5, ex.minor, skip));
  const tail: Insn[] = [alu32Imm(BPF_MOV, R0, defaultAllow ? 0 : 1), exit()];
  const total = tests.length + tail.length;
  // the jump at index i lands on the first instruction after the block
  return [...tests.map((t, i) => t(total - (i + 1))), ...tail];
}

/** The program for the emulated cgroup state. */
export function deviceFilterProgram(state: DeviceEmulator): Insn[] {
  const insns: Insn[] = [
    // R2 <- type (low 16 bits of access_type), R3 <- access (high 16 bits)
    ldxW(R2, R1, 0),
    alu32Imm(BPF_AND, R2, 0xffff),
    ldxW(R3, R1, 0),
    alu32Imm(BPF_RSH, R3, 16),
    // R4 <- major, R5 <- minor
    ldxW(R4, R1, 4),
    ldxW(R5, R1, 8),
  ];
  for (const ex of state.sorted()) insns.push(...block(ex, state.defaultAllow));
  insns.push(alu32Imm(BPF_MOV, R0, state.defaultAllow ? 1 : 0), exit());
  return insns;
}

/** struct bpf_insn as the kernel reads it (little-endian hosts: dst in the low nibble). */
export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((insn, i) => {
    view.setUint8(i * 8, insn.code);
    view.setUint8(i * 8 + 1, (insn.src << 4) | insn.dst);
    view.setInt16(i * 8 + 2, insn.off, true);
    view.setInt32(i * 8 + 4, insn.imm, true);
  });
  return out;
}

/** A tiny interpreter of the instructions this module emits, so tests can run the program. */
export function runProgram(insns: readonly Insn[], ctx: { type: number; access: number; major: number; minor: number }): number {
  const r = new Array<number>(11).fill(0);
  const mem = [((ctx.access << 16) | ctx.type) >>> 0, ctx.major >>> 0, ctx.minor >>> 0];
  for (let pc = 0, steps = 0; pc < insns.length && steps < 10_000; pc++, steps++) {
    const i = insns[pc] as Insn;
    const cls = i.code & 0x07;
    const op = i.code & 0xf0;
    const srcVal = (i.code & BPF_X ? (r[i.src] ?? 0) : i.imm) >>> 0;
    const dstVal = (r[i.dst] ?? 0) >>> 0;
    if (cls === BPF_LDX) r[i.dst] = mem[i.off / 4] ?? 0;
    else if (cls === BPF_ALU) {
      if (op === BPF_AND) r[i.dst] = (dstVal & srcVal) >>> 0;
      else if (op === BPF_RSH) r[i.dst] = dstVal >>> srcVal;
      else if (op === BPF_MOV) r[i.dst] = srcVal;
      else throw new Error(`unsupported alu op ${i.code}`);
    } else if (cls === BPF_JMP && op === BPF_EXIT) return r[R0] ?? 0;
    else if (cls === BPF_JMP32) {
      if (op !== BPF_JNE && op !== BPF_JEQ) throw new Error(`unsupported jump ${i.code}`);
      if ((op === BPF_JNE) === (dstVal !== srcVal)) pc += i.off;
    } else throw new Error(`unsupported instruction ${i.code}`);
  }
  throw new Error('program did not exit');
}
