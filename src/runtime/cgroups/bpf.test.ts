import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessBits, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR, deviceFilterProgram, encodeProgram, type Insn, runProgram } from './bpf.js';
import { containerDeviceRules, type DeviceEmulator, type DeviceRule, DeviceEmulator as Emu } from './devices.js';

const ACCESSES = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
const DEVICES: ['b' | 'c', number, number][] = [
  ['c', 1, 3],
  ['c', 1, 1],
  ['c', 1, 5],
  ['c', 5, 2],
  ['c', 136, 0],
  ['c', 136, 4000000],
  ['c', 10, 229],
  ['b', 8, 0],
  ['b', 254, 0],
  ['c', 4294967295, 4294967295],
];

/** The program must agree with the emulator (the kernel's v1 semantics) on every request. */
function agrees(state: DeviceEmulator): void {
  const prog = deviceFilterProgram(state);
  for (const [type, major, minor] of DEVICES) {
    for (const a of ACCESSES) {
      const got = runProgram(prog, {
        type: type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
        access: accessBits(a),
        major,
        minor,
      });
      assert.equal(got === 1, state.permits(type, major, minor, a), `${type} ${major}:${minor} ${a}`);
    }
  }
}

test('the default container device program allows exactly what v1 would', () => {
  agrees(Emu.fromRules(containerDeviceRules([{ allow: false, access: 'rwm' }])));
});

test('allow-all with denials, partial access and wildcards', () => {
  const rules: DeviceRule[] = [
    { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true },
    { type: 'c', major: 1, minor: 3, access: 'w', allow: false },
    { type: 'b', major: -1, minor: -1, access: 'r', allow: false },
    { type: 'c', major: 4294967295, minor: -1, access: 'rwm', allow: false },
  ];
  agrees(Emu.fromRules(rules));
  agrees(
    Emu.fromRules(
      containerDeviceRules([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'b', major: 8, access: 'rw' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'r' },
      ]),
    ),
  );
});

test("the program's prologue and verdicts have runc's shape", () => {
  const prog = deviceFilterProgram(Emu.fromRules(containerDeviceRules([{ allow: false, access: 'rwm' }])));
  // ldxw r2 = *(u32 *)(r1 + 0); and r2 &= 0xffff; ldxw r3 = *(r1 + 0); rsh r3 >>= 16; ldxw r4 = *(r1 + 4); ldxw r5 = *(r1 + 8)
  assert.deepEqual(
    prog.slice(0, 6).map((i) => [i.code, i.dst, i.src, i.off, i.imm]),
    [
      [0x61, 2, 1, 0, 0],
      [0x54, 2, 0, 0, 0xffff],
      [0x61, 3, 1, 0, 0],
      [0x74, 3, 0, 0, 16],
      [0x61, 4, 1, 4, 0],
      [0x61, 5, 1, 8, 0],
    ],
  );
  const last = prog.slice(-2);
  assert.deepEqual(last[0], { code: 0xb4, dst: 0, src: 0, off: 0, imm: 0 }); // deny by default
  assert.deepEqual(last[1], { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  // every jump lands inside the program
  prog.forEach((i, pc) => {
    if ((i.code & 0x07) === 0x06) assert.ok(pc + 1 + i.off < prog.length && i.off > 0, `jump at ${pc}`);
  });
});

test('instructions are encoded as struct bpf_insn (little endian)', () => {
  const insns: Insn[] = [{ code: 0x56, dst: 4, src: 0, off: 3, imm: -1 }];
  assert.deepEqual([...encodeProgram(insns)], [0x56, 0x04, 0x03, 0x00, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual([...encodeProgram([{ code: 0x5e, dst: 1, src: 3, off: -2, imm: 0 }])], [0x5e, 0x31, 0xfe, 0xff, 0, 0, 0, 0]);
});
