/**
 * Classic BPF as seccomp uses it: the instruction encoding, and a small assembler whose jumps
 * name labels instead of offsets. The assembler resolves the offsets and, where a conditional
 * jump would be farther than its 8-bit offset reaches (255 instructions), routes it through a
 * `ja` (32-bit offset) placed right after it, as libseccomp does. Pure.
 */
import { BerthError } from '../../common/errors.js';

/** One `struct sock_filter`. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// linux/bpf_common.h
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_K = 0x00;
export const BPF_AND = 0x50;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const BPF_MAXINSNS = 4096;

export type Cond = 'jeq' | 'jgt' | 'jge' | 'jset';
const CONDS: Record<Cond, number> = { jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET };

/** A jump target; `Asm.place` fixes where it is. */
export type Label = number & { readonly __label: unique symbol };

type Item =
  | { kind: 'insn'; code: number; k: number }
  | { kind: 'jmp'; code: number; k: number; t: Label; f: Label }
  | { kind: 'ja'; target: Label }
  | { kind: 'label'; label: Label };

export class Asm {
  #items: Item[] = [];
  #next = 0;

  label(): Label {
    return this.#next++ as Label;
  }

  /** The next instruction emitted is `label`'s target. */
  place(label: Label): void {
    this.#items.push({ kind: 'label', label });
  }

  /** `ld [off]`: a 32-bit word of struct seccomp_data. */
  load(offset: number): void {
    this.#items.push({ kind: 'insn', code: BPF_LD | BPF_W | BPF_ABS, k: offset });
  }

  and(k: number): void {
    this.#items.push({ kind: 'insn', code: BPF_ALU | BPF_AND | BPF_K, k: k >>> 0 });
  }

  ret(k: number): void {
    this.#items.push({ kind: 'insn', code: BPF_RET | BPF_K, k: k >>> 0 });
  }

  /** `if (A <cond> k) goto t; else goto f` — both forward. */
  jump(cond: Cond, k: number, t: Label, f: Label): void {
    this.#items.push({ kind: 'jmp', code: BPF_JMP | CONDS[cond] | BPF_K, k: k >>> 0, t, f });
  }

  /** `goto target` (forward). */
  goto(target: Label): void {
    this.#items.push({ kind: 'ja', target });
  }

  /** Resolves the labels into offsets, inserting long jumps where needed. */
  assemble(): SockFilter[] {
    // A `goto` to the very next instruction is dropped.
    let items = this.#items.filter((it, i, all) => {
      if (it.kind !== 'ja') return true;
      for (let j = i + 1; all[j]?.kind === 'label'; j++) if ((all[j] as { label: Label }).label === it.target) return false;
      return true;
    });
    for (;;) {
      const pos = positions(items);
      const pcOf = (it: Item) => pos.get(it) as number;
      const far = (it: Extract<Item, { kind: 'jmp' }>) => ({
        t: distance(pos, it.t, pcOf(it)) > 255,
        f: distance(pos, it.f, pcOf(it)) > 255,
      });
      if (!items.some((it) => it.kind === 'jmp' && (far(it).t || far(it).f))) break;
      // `jcond k, T, F` becomes `jcond k, +0, +1; ja T; ja F` (only the far sides are rerouted).
      // Inserting moves other jumps farther apart: repeat until every jump reaches.
      const next: Item[] = [];
      for (const it of items) {
        next.push(it);
        if (it.kind !== 'jmp') continue;
        const { t, f } = far(it);
        const target = { t: it.t, f: it.f };
        if (t) {
          it.t = this.label();
          next.push({ kind: 'label', label: it.t }, { kind: 'ja', target: target.t });
        }
        if (f) {
          it.f = this.label();
          next.push({ kind: 'label', label: it.f }, { kind: 'ja', target: target.f });
        }
      }
      items = next;
    }
    const pos = positions(items);
    const out: SockFilter[] = [];
    for (const it of items) {
      const pc = out.length;
      if (it.kind === 'insn') out.push({ code: it.code, jt: 0, jf: 0, k: it.k });
      else if (it.kind === 'jmp') out.push({ code: it.code, jt: distance(pos, it.t, pc), jf: distance(pos, it.f, pc), k: it.k });
      else if (it.kind === 'ja') out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: distance(pos, it.target, pc) });
    }
    if (out.length > BPF_MAXINSNS)
      throw new BerthError(
        'invalid-argument',
        `seccomp: the filter needs ${out.length} BPF instructions, more than the kernel's ${BPF_MAXINSNS}`,
      );
    return out;
  }
}

/** Instruction index of every label. */
function positions(items: Item[]): Map<Label | Item, number> {
  const pos = new Map<Label | Item, number>();
  let pc = 0;
  for (const it of items) {
    if (it.kind === 'label') pos.set(it.label, pc);
    else {
      pos.set(it, pc);
      pc++;
    }
  }
  return pos;
}

/** Offset of a forward jump from the instruction at `pc` (0: the next instruction). */
function distance(pos: Map<Label | Item, number>, to: Label | Item, pc: number): number {
  const p = pos.get(to);
  if (p === undefined) throw new Error(`bpf: label ${String(to)} was never placed`);
  const d = p - pc - 1;
  if (d < 0) throw new Error('bpf: backward jump');
  return d;
}

/** The program as the kernel takes it: 8 bytes per instruction, little-endian (x86_64, aarch64). */
export function encodeProgram(prog: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((ins, i) => {
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buf;
}

export function decodeProgram(buf: Uint8Array): SockFilter[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length % 8 !== 0) throw new Error(`bpf: ${b.length} bytes is not a whole number of instructions`);
  const out: SockFilter[] = [];
  for (let i = 0; i < b.length; i += 8) out.push({ code: b.readUInt16LE(i), jt: b[i + 2]!, jf: b[i + 3]!, k: b.readUInt32LE(i + 4) });
  return out;
}
