/**
 * A classic-BPF interpreter for seccomp programs: checks a program the way the kernel does
 * before loading it, and runs it on a struct seccomp_data. The tests use it to check compiled
 * filters by what they return, without loading them; it is also handy to see what a filter
 * does with one call. Pure.
 */
import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_MAXINSNS,
  BPF_RET,
  BPF_W,
  type SockFilter,
} from './bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six arguments, unsigned 64-bit. */
  args?: readonly (bigint | number)[];
}

const LD = BPF_LD | BPF_W | BPF_ABS;
const AND = BPF_ALU | BPF_AND | BPF_K;
const JA = BPF_JMP | BPF_JA;
const RET = BPF_RET | BPF_K;
const CONDS = new Set([BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].map((c) => BPF_JMP | c | BPF_K));
const SIZEOF_SECCOMP_DATA = 64;

/** What bpf_check_classic and seccomp_check_filter would refuse, for the instructions seccomp filters use. */
export function checkProgram(prog: readonly SockFilter[]): void {
  if (prog.length === 0 || prog.length > BPF_MAXINSNS) throw new Error(`bpf: ${prog.length} instructions`);
  prog.forEach((ins, pc) => {
    const left = prog.length - pc - 1;
    if (ins.code === LD) {
      if (ins.k % 4 !== 0 || ins.k >= SIZEOF_SECCOMP_DATA) throw new Error(`bpf: ${pc}: bad load offset ${ins.k}`);
    } else if (ins.code === JA) {
      if (ins.k >= left) throw new Error(`bpf: ${pc}: ja ${ins.k} out of the program`);
    } else if (CONDS.has(ins.code)) {
      if (ins.jt >= left || ins.jf >= left) throw new Error(`bpf: ${pc}: jump ${ins.jt}/${ins.jf} out of the program`);
    } else if (ins.code !== AND && ins.code !== RET) {
      throw new Error(`bpf: ${pc}: instruction 0x${ins.code.toString(16)} not allowed in a seccomp filter`);
    }
    for (const [n, v] of [
      ['jt', ins.jt],
      ['jf', ins.jf],
    ] as const)
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`bpf: ${pc}: ${n} ${v} out of range`);
    if (!Number.isInteger(ins.k) || ins.k < 0 || ins.k > 0xffffffff) throw new Error(`bpf: ${pc}: k ${ins.k} out of range`);
  });
  if (prog.at(-1)!.code !== RET) throw new Error('bpf: the last instruction is not a return');
}

function dataBuffer(d: SeccompData): Buffer {
  const b = Buffer.alloc(SIZEOF_SECCOMP_DATA);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => {
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i);
  });
  return b;
}

/** Runs the program; returns the SECCOMP_RET_* value (unsigned) and how many instructions ran. */
export function runProgram(prog: readonly SockFilter[], d: SeccompData): { ret: number; steps: number } {
  const data = dataBuffer(d);
  let a = 0;
  let pc = 0;
  for (let steps = 1; ; steps++) {
    const ins = prog[pc];
    if (ins === undefined) throw new Error(`bpf: fell off the program at ${pc}`);
    pc++;
    switch (ins.code) {
      case LD:
        a = data.readUInt32LE(ins.k);
        break;
      case AND:
        a = (a & ins.k) >>> 0;
        break;
      case JA:
        pc += ins.k;
        break;
      case RET:
        return { ret: ins.k >>> 0, steps };
      default: {
        const op = ins.code & 0xf0;
        let taken: boolean;
        if (op === BPF_JEQ) taken = a === ins.k;
        else if (op === BPF_JGT) taken = a > ins.k;
        else if (op === BPF_JGE) taken = a >= ins.k;
        else if (op === BPF_JSET) taken = (a & ins.k) !== 0;
        else throw new Error(`bpf: ${pc - 1}: unknown instruction 0x${ins.code.toString(16)}`);
        pc += taken ? ins.jt : ins.jf;
      }
    }
  }
}
