/**
 * The compiled filters are checked by running them: each program is first checked as the kernel
 * would check it, then evaluated on synthetic seccomp_data (interp.ts) for system calls,
 * arguments and architectures, and the returned action is compared with what runc + libseccomp
 * would decide.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { BerthError } from '../../common/errors.js';
import {
  type AbiName,
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  syscallTable,
  type TargetArch,
} from './arch.js';
import { BPF_JA, BPF_JMP, decodeProgram, type SockFilter } from './bpf.js';
import { type CompiledSeccomp, compileSeccomp } from './compile.js';
import { type DockerSeccompProfile, dockerProfileToOci } from './docker-profile.js';
import { planSeccomp } from './index.js';
import { checkProgram, runProgram } from './interp.js';

const ALLOW = 0x7fff0000;
const KILL_THREAD = 0;
const KILL_PROCESS = 0x80000000;
const TRAP = 0x00030000;
const LOG = 0x7ffc0000;
const ERRNO = (e: number) => (0x00050000 | e) >>> 0;
const TRACE = (v: number) => (0x7ff00000 | v) >>> 0;
const EPERM = ERRNO(1);
const ENOSYS = ERRNO(38);

const nr = (abi: AbiName, name: string) => {
  const n = syscallTable(abi).get(name);
  if (n === undefined) throw new Error(`no system call ${name} on ${abi}`);
  return n;
};
const X = (name: string) => nr('x86_64', name);
const [I386, X32, AARCH64, ARM] = ['i386', 'x32', 'aarch64', 'arm'] as const;

function compile(seccomp: unknown, arch: TargetArch = 'x86_64'): CompiledSeccomp {
  const c = compileSeccomp(seccomp, arch);
  checkProgram(c.program);
  return c;
}

function run(c: CompiledSeccomp, call: number, args: (bigint | number)[] = [], arch = AUDIT_ARCH_X86_64): number {
  return runProgram(c.program, { nr: call, arch, args }).ret;
}

const longJumps = (prog: SockFilter[]) => prog.filter((i) => i.code === (BPF_JMP | BPF_JA)).length;

describe('seccomp compiler', () => {
  test('system call tables (generated from the kernel headers) give the kernel numbers', () => {
    assert.equal(nr('x86_64', 'read'), 0);
    assert.equal(nr('x86_64', 'mkdir'), 83);
    assert.equal(nr('x86_64', 'clone3'), 435);
    assert.equal(nr('x32', 'read'), 0x40000000);
    assert.equal(nr('x32', 'rt_sigaction'), 0x40000000 + 512);
    assert.equal(nr('i386', 'socket'), 359);
    assert.equal(nr('i386', 'chown32'), 212);
    assert.equal(nr('aarch64', 'openat'), 56);
    assert.equal(nr('aarch64', 'newfstatat'), 79);
    assert.equal(syscallTable('aarch64').has('open'), false);
    assert.equal(nr('arm', 'sync_file_range2'), 341);
    assert.equal(nr('arm', 'arm_sync_file_range'), 341);
    assert.equal(nr('arm', 'set_tls'), 0x0f0005);
    assert.equal(syscallTable('x86_64').has('constructor'), false);
  });

  test('a denied system call fails with the chosen errno; the rest follows the default action', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    });
    assert.equal(run(c, X('mkdir')), ERRNO(13));
    assert.equal(run(c, X('mkdirat')), ERRNO(13));
    assert.equal(run(c, X('getpid')), ALLOW);
    assert.equal(run(c, X('rmdir')), ALLOW);
    // No -ENOSYS stub with a permissive default: unknown numbers get the default.
    assert.equal(run(c, 5000), ALLOW);
    assert.equal(c.flags, 0);
  });

  test('default ERRNO with an allow list; numbers past the profile get ENOSYS (runc)', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.equal(run(c, X('read')), ALLOW);
    assert.equal(run(c, X('write')), ALLOW);
    assert.equal(run(c, X('exit_group')), ALLOW);
    assert.equal(run(c, X('getpid')), EPERM, 'default errno is EPERM');
    assert.equal(run(c, X('exit_group') + 1), ENOSYS);
    assert.equal(run(c, 0x3fffffff), ENOSYS);
    // defaultErrnoRet
    const d = compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 95, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    assert.equal(run(d, X('getpid')), ERRNO(95));
    // A default of ENOSYS needs no stub: same answers.
    const e = compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    assert.equal(run(e, X('getpid')), ENOSYS);
    assert.equal(run(e, 1000), ENOSYS);
    // No stub for LOG and TRACE defaults either.
    for (const [action, value] of [
      ['SCMP_ACT_LOG', LOG],
      ['SCMP_ACT_TRACE', TRACE(1)],
    ] as const) {
      const f = compile({ defaultAction: action, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
      assert.equal(run(f, 1000), value);
    }
  });

  test('actions map to the kernel values runc gives them', () => {
    const cases: [string, number | undefined, number][] = [
      ['SCMP_ACT_KILL', undefined, KILL_THREAD],
      ['SCMP_ACT_KILL_THREAD', undefined, KILL_THREAD],
      ['SCMP_ACT_KILL_PROCESS', undefined, KILL_PROCESS],
      ['SCMP_ACT_TRAP', undefined, TRAP],
      ['SCMP_ACT_ERRNO', undefined, EPERM],
      ['SCMP_ACT_ERRNO', 0, ERRNO(0)],
      ['SCMP_ACT_ERRNO', 4095, ERRNO(4095)],
      ['SCMP_ACT_TRACE', undefined, TRACE(1)],
      ['SCMP_ACT_TRACE', 1234, TRACE(1234)],
      ['SCMP_ACT_LOG', undefined, LOG],
      ['SCMP_ACT_ALLOW', undefined, ALLOW],
    ];
    for (const [action, errnoRet, value] of cases) {
      const c = compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 77, syscalls: [{ names: ['getpid'], action, errnoRet }] });
      assert.equal(run(c, X('getpid')), value, action);
      assert.equal(run(c, X('write')), ERRNO(77), action);
    }
    const d = compile({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    assert.equal(run(d, X('getpid')), KILL_PROCESS);
  });

  test('SCMP_ACT_NOTIFY is refused as not implemented, naming the field', () => {
    const check = (seccomp: unknown, field: string) =>
      assert.throws(
        () => compileSeccomp(seccomp, 'x86_64'),
        (e: unknown) =>
          e instanceof BerthError &&
          e.kind === 'not-implemented' &&
          e.object === field &&
          e.message.includes(`config.json: ${field}: SCMP_ACT_NOTIFY`) &&
          /not supported/.test(e.message),
      );
    check(
      { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
      'linux.seccomp.syscalls[0].action',
    );
    check({ defaultAction: 'SCMP_ACT_NOTIFY' }, 'linux.seccomp.defaultAction');
    // A listener path alone (no notify rule) has nothing to listen for: accepted.
    compile({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', listenerMetadata: 'x' });
  });

  test('bad configs are refused with the field named', () => {
    const cases: [unknown, RegExp][] = [
      [{ defaultAction: 'SCMP_ACT_NOPE' }, /linux\.seccomp\.defaultAction: unknown action 'SCMP_ACT_NOPE'/],
      [{}, /linux\.seccomp\.defaultAction: expected a string/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'X' }] }, /syscalls\[0\]\.action: unknown action 'X'/],
      [
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_FOO' }] }],
        },
        /syscalls\[0\]\.args\[0\]\.op: unknown operator 'SCMP_CMP_FOO'/,
      ],
      [
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }],
        },
        /syscalls\[0\]\.args\[0\]\.index: expected an argument index from 0 to 5/,
      ],
      [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, /architectures\[0\]: unknown architecture 'SCMP_ARCH_Z80'/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, /flags\[0\]: unknown seccomp flag/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['constructor'] }, /flags\[0\]: unknown seccomp flag 'constructor'/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['toString'] }, /architectures\[0\]: unknown architecture 'toString'/],
      [{ defaultAction: 'toString' }, /defaultAction: unknown action 'toString'/],
      [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, /defaultErrnoRet: expected an integer from 0 to 65535/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [''], action: 'SCMP_ACT_ERRNO' }] }, /syscalls\[0\]\.names\[0\]: empty/],
      [
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }],
        },
        /args\[0\]\.value: .* above 2\^53/,
      ],
    ];
    for (const [seccomp, message] of cases) {
      assert.throws(
        () => compileSeccomp(seccomp, 'x86_64'),
        (e: unknown) => e instanceof BerthError && e.kind === 'invalid-argument' && message.test(e.message),
        String(message),
      );
    }
  });

  test('flags are passed through as SECCOMP_FILTER_FLAG_* bits', () => {
    const flags = (f: string[]) => compile({ defaultAction: 'SCMP_ACT_ALLOW', flags: f }).flags;
    assert.equal(flags(['SECCOMP_FILTER_FLAG_TSYNC']), 1);
    assert.equal(flags(['SECCOMP_FILTER_FLAG_LOG']), 2);
    assert.equal(flags(['SECCOMP_FILTER_FLAG_SPEC_ALLOW']), 4);
    assert.equal(flags(['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']), 7);
    // Only meaningful with a listener, which the kernel requires for it (libseccomp drops it too).
    assert.equal(flags(['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']), 0);
  });

  test('unknown system call names are skipped and reported', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read', 'no_such_call', 'chown32'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.deepEqual(c.unknownSyscalls, ['chown32', 'no_such_call'], 'chown32 is an i386 call, not filtered here');
    assert.equal(run(c, X('read')), ALLOW);
    const d = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [{ names: ['chown32'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.deepEqual(d.unknownSyscalls, []);
    assert.equal(run(d, nr(I386, 'chown32'), [], AUDIT_ARCH_I386), ALLOW);
  });

  describe('architectures', () => {
    const profile = (architectures?: string[]) => ({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures,
      syscalls: [{ names: ['read', 'getpid', 'chown32'], action: 'SCMP_ACT_ALLOW' }],
    });

    test('the native ABI is always filtered; another ABI not listed is killed (libseccomp bad-arch action)', () => {
      for (const archs of [undefined, [], ['SCMP_ARCH_X86']]) {
        const c = compile(profile(archs));
        assert.equal(run(c, X('read')), ALLOW);
        assert.equal(run(c, X('close')), EPERM);
      }
      const c = compile(profile([]));
      assert.equal(run(c, nr(I386, 'read'), [], AUDIT_ARCH_I386), KILL_THREAD);
      assert.equal(run(c, 63, [], AUDIT_ARCH_AARCH64), KILL_THREAD);
      assert.equal(run(c, 0, [], 0x12345678), KILL_THREAD);
    });

    test('listed 32-bit x86 calls follow the i386 table', () => {
      const c = compile(profile(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']));
      assert.equal(run(c, nr(I386, 'read'), [], AUDIT_ARCH_I386), ALLOW);
      assert.equal(run(c, nr(I386, 'getpid'), [], AUDIT_ARCH_I386), ALLOW);
      assert.equal(run(c, nr(I386, 'chown32'), [], AUDIT_ARCH_I386), ALLOW);
      assert.equal(run(c, nr(I386, 'close'), [], AUDIT_ARCH_I386), EPERM);
      // i386 read is 3, which is x86_64 close: the tables are not mixed.
      assert.equal(run(c, 3), EPERM);
    });

    test('x32 calls (bit 30) are killed unless SCMP_ARCH_X32 is listed; nr -1 gets the default', () => {
      const c = compile(profile(['SCMP_ARCH_X86_64']));
      assert.equal(run(c, nr(X32, 'read')), KILL_THREAD);
      assert.equal(run(c, nr(X32, 'close')), KILL_THREAD);
      assert.equal(run(c, 0xffffffff), EPERM);
      const d = compile(profile(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32']));
      assert.equal(run(d, nr(X32, 'read')), ALLOW);
      assert.equal(run(d, nr(X32, 'getpid')), ALLOW);
      assert.equal(run(d, nr(X32, 'close')), EPERM);
      assert.equal(run(d, X('read')), ALLOW);
      // -ENOSYS past the highest x32 number named, as runc's stub for x32.
      assert.equal(run(d, nr(X32, 'getpid') + 1000), ENOSYS);
      assert.equal(run(d, 0xffffffff), ENOSYS);
      // A permissive default without x32: x32 is still killed, -1 allowed.
      const e = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] });
      assert.equal(run(e, nr(X32, 'write')), KILL_THREAD);
      assert.equal(run(e, 0xffffffff), ALLOW);
    });

    test('aarch64 hosts: native aarch64, optional 32-bit ARM; x86 names are ignored there', () => {
      const p = {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
        syscalls: [{ names: ['read', 'openat', 'set_tls'], action: 'SCMP_ACT_ALLOW' }],
      };
      const c = compile(p, 'aarch64');
      assert.equal(run(c, nr(AARCH64, 'read'), [], AUDIT_ARCH_AARCH64), ALLOW);
      assert.equal(run(c, nr(AARCH64, 'openat'), [], AUDIT_ARCH_AARCH64), ALLOW);
      assert.equal(run(c, nr(AARCH64, 'close'), [], AUDIT_ARCH_AARCH64), EPERM);
      assert.equal(run(c, nr(ARM, 'read'), [], AUDIT_ARCH_ARM), ALLOW);
      assert.equal(run(c, nr(ARM, 'set_tls'), [], AUDIT_ARCH_ARM), ALLOW);
      assert.equal(run(c, nr(ARM, 'close'), [], AUDIT_ARCH_ARM), EPERM);
      assert.equal(run(c, 0, [], AUDIT_ARCH_X86_64), KILL_THREAD);
      const d = compile({ ...p, architectures: [] }, 'aarch64');
      assert.equal(run(d, nr(ARM, 'read'), [], AUDIT_ARCH_ARM), KILL_THREAD);
    });
  });

  describe('argument comparisons', () => {
    const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
    const expect = (op: (typeof OPS)[number], arg: bigint, value: bigint, valueTwo: bigint) => {
      switch (op) {
        case 'SCMP_CMP_NE':
          return arg !== value;
        case 'SCMP_CMP_LT':
          return arg < value;
        case 'SCMP_CMP_LE':
          return arg <= value;
        case 'SCMP_CMP_EQ':
          return arg === value;
        case 'SCMP_CMP_GE':
          return arg >= value;
        case 'SCMP_CMP_GT':
          return arg > value;
        case 'SCMP_CMP_MASKED_EQ':
          return (arg & value) === (valueTwo & value);
      }
    };
    // Values that stress the two-halves comparison: equal high words, equal low words, extremes.
    const interesting = [
      0n,
      1n,
      5n,
      0x7fffffffn,
      0x80000000n,
      0xffffffffn,
      0x1_00000000n,
      0x1_00000005n,
      0x1_ffffffffn,
      0x2_00000000n,
      0x80000000_00000000n,
      0xffffffff_00000000n,
      0xffffffff_fffffffen,
      0xffffffff_ffffffffn,
    ];
    let seed = 42;
    const rand32 = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return BigInt(seed);
    };
    const rand64 = () => (rand32() << 32n) | rand32();

    test('64-bit comparisons on x86_64, done as two 32-bit halves, agree with 64-bit arithmetic', () => {
      for (const op of OPS) {
        const values = [...interesting, rand64(), rand64()];
        for (const value of values) {
          const valueTwo = op === 'SCMP_CMP_MASKED_EQ' ? (values[(values.indexOf(value) + 3) % values.length] ?? 0n) : 0n;
          const c = compile({
            defaultAction: 'SCMP_ACT_ERRNO',
            syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value, valueTwo, op }] }],
          });
          for (const arg of [...interesting, value, value + 1n, value - 1n, value ^ 0x1_00000000n, rand64()]) {
            if (arg < 0n || arg > 0xffffffff_ffffffffn) continue;
            const want = expect(op, arg, value, valueTwo) ? ALLOW : EPERM;
            assert.equal(run(c, X('personality'), [0, 0, arg]), want, `${op} arg=0x${arg.toString(16)} value=0x${value.toString(16)}`);
          }
        }
      }
    });

    test('32-bit ABIs compare the low word only (libseccomp)', () => {
      for (const op of OPS) {
        for (const value of [0n, 8n, 0xffffffffn, 0x1_00000008n]) {
          const c = compile({
            defaultAction: 'SCMP_ACT_ERRNO',
            architectures: ['SCMP_ARCH_X86'],
            syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, valueTwo: 8n, op }] }],
          });
          for (const arg of [0n, 7n, 8n, 9n, 0xffffffffn, 0x5_00000008n]) {
            const lo = (v: bigint) => v & 0xffffffffn;
            const want = expect(op, lo(arg), lo(value), 8n) ? ALLOW : EPERM;
            assert.equal(run(c, nr(I386, 'personality'), [arg], AUDIT_ARCH_I386), want, `${op} arg=${arg} value=${value}`);
          }
        }
      }
    });

    test('personality as in Docker: several rules for one call are ORed', () => {
      const c = compile({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [0, 8, 0x20000, 0x20008, 0xffffffff].map((value) => ({
          names: ['personality'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
        })),
      });
      for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) assert.equal(run(c, X('personality'), [v]), ALLOW, String(v));
      for (const v of [1, 9, 0x20001, 0x1_00000000n, 0x1_ffffffffn]) assert.equal(run(c, X('personality'), [v]), EPERM, String(v));
    });

    test('several arguments in one rule are ANDed; the same argument twice is ORed (runc)', () => {
      const c = compile({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          {
            names: ['socket'],
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 97,
            args: [
              { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
              { index: 1, value: 3, op: 'SCMP_CMP_EQ' },
            ],
          },
          {
            names: ['kill'],
            action: 'SCMP_ACT_ERRNO',
            args: [
              { index: 1, value: 9, op: 'SCMP_CMP_EQ' },
              { index: 1, value: 15, op: 'SCMP_CMP_EQ' },
            ],
          },
        ],
      });
      assert.equal(run(c, X('socket'), [2, 3]), ERRNO(97));
      assert.equal(run(c, X('socket'), [2, 1]), ALLOW);
      assert.equal(run(c, X('socket'), [10, 3]), ALLOW);
      assert.equal(run(c, X('kill'), [1, 9]), EPERM);
      assert.equal(run(c, X('kill'), [1, 15]), EPERM);
      assert.equal(run(c, X('kill'), [1, 2]), ALLOW);
    });

    test('masked equality, as Docker allows clone without namespace flags', () => {
      const c = compile({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }],
      });
      const SIGCHLD = 17;
      const CLONE_NEWUSER = 0x10000000;
      const CLONE_NEWNS = 0x00020000;
      const CLONE_VM = 0x100;
      assert.equal(run(c, X('clone'), [SIGCHLD | CLONE_VM]), ALLOW);
      assert.equal(run(c, X('clone'), [SIGCHLD | CLONE_NEWUSER]), EPERM);
      assert.equal(run(c, X('clone'), [CLONE_NEWNS]), EPERM);
      assert.equal(run(c, X('clone'), [0xffffffff_00000000n | BigInt(SIGCHLD)]), ALLOW, 'high word outside the mask');
      // A zero mask always holds: the rule is unconditional.
      const d = compile({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, valueTwo: 5, op: 'SCMP_CMP_MASKED_EQ' }] }],
      });
      assert.equal(run(d, X('clone'), [CLONE_NEWUSER]), ALLOW);
    });

    test('an unconditional rule wins over conditional ones, in either order; rules with the default action are dropped', () => {
      for (const order of [0, 1]) {
        const rules = [
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 3, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 4 },
        ];
        if (order) rules.reverse();
        const c = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules });
        assert.equal(run(c, X('kill'), [1, 9]), ERRNO(4));
        assert.equal(run(c, X('kill'), [1, 2]), ERRNO(4));
      }
      const d = compile({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 5, op: 'SCMP_CMP_GE' }] },
        ],
      });
      assert.equal(run(d, X('kill'), [1, 9]), EPERM, 'the ALLOW rule equals the default and is dropped, as in runc');
      assert.equal(run(d, X('kill'), [1, 4]), ALLOW);
    });
  });

  test('long programs: jumps beyond 255 instructions go through `ja`', () => {
    // 300 calls, each with its own argument rule: the chains lie far from the dispatch.
    const names = [...syscallTable('x86_64').keys()].slice(0, 300);
    const c = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: names.map((n, i) => ({
        names: [n],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: (i % 200) + 1,
        args: [{ index: i % 6, value: 0x1_00000000 + i, op: 'SCMP_CMP_EQ' }],
      })),
    });
    assert.ok(c.program.length > 1000, `${c.program.length} instructions`);
    assert.ok(longJumps(c.program) > 0, 'some jumps needed a ja');
    names.forEach((n, i) => {
      const args = [0, 0, 0, 0, 0, 0];
      args[i % 6] = 0x1_00000000 + i;
      assert.equal(run(c, X(n), args), ERRNO((i % 200) + 1), n);
      args[i % 6] = i;
      assert.equal(run(c, X(n), args), ALLOW, n);
    });
  });

  test('the program bytes are struct sock_filter, little-endian; planSeccomp gives them in hex', () => {
    const c = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.equal(c.bytes.length, c.program.length * 8);
    assert.deepEqual(decodeProgram(c.bytes), c.program);
    // The first instruction loads seccomp_data.arch: BPF_LD|BPF_W|BPF_ABS, k = 4.
    assert.equal(c.bytes.subarray(0, 8).toString('hex'), '2000000004000000');
    const p = planSeccomp(
      { defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] },
      'x86_64',
    );
    assert.deepEqual(p, { flags: 2, program: c.bytes.toString('hex') });
    assert.equal(planSeccomp(undefined), undefined);
  });

  test('the interpreter refuses what the kernel refuses', () => {
    assert.throws(() => checkProgram([]), /0 instructions/);
    assert.throws(() => checkProgram([{ code: 0x20, jt: 0, jf: 0, k: 64 }]), /load offset/);
    assert.throws(() => checkProgram([{ code: 0x15, jt: 1, jf: 0, k: 0 }]), /out of the program/);
    assert.throws(() => checkProgram([{ code: 0x20, jt: 0, jf: 0, k: 0 }]), /not a return/);
    assert.throws(() => checkProgram([{ code: 0x07, jt: 0, jf: 0, k: 0 }]), /not allowed/);
  });
});

describe("Docker's default profile", () => {
  const profile = JSON.parse(
    readFileSync(new URL('../../../test/fixtures/seccomp/docker-default.json', import.meta.url), 'utf8'),
  ) as DockerSeccompProfile;
  // Docker's default capabilities.
  const caps = [
    'CAP_CHOWN',
    'CAP_DAC_OVERRIDE',
    'CAP_FSETID',
    'CAP_FOWNER',
    'CAP_MKNOD',
    'CAP_NET_RAW',
    'CAP_SETGID',
    'CAP_SETUID',
    'CAP_SETFCAP',
    'CAP_SETPCAP',
    'CAP_NET_BIND_SERVICE',
    'CAP_SYS_CHROOT',
    'CAP_KILL',
    'CAP_AUDIT_WRITE',
  ];
  const CLONE_NEWUSER = 0x10000000;
  const SIGCHLD = 17;

  test('converted for x86_64 as dockerd does: native arch first, sub-architectures, caps and kernel filters', () => {
    const oci = dockerProfileToOci(profile, { arch: 'x86_64', capabilities: caps, kernel: '6.18.0' })!;
    assert.deepEqual(oci.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.equal(oci.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(oci.defaultErrnoRet, 1);
    const names = oci.syscalls!.flatMap((s) => s.names);
    assert.ok(names.includes('chroot'), 'CAP_SYS_CHROOT');
    assert.ok(names.includes('ptrace'), 'minKernel 4.8');
    assert.ok(!names.includes('mount'), 'needs CAP_SYS_ADMIN');
    assert.ok(!names.includes('set_tls'), 'arm only');
    assert.ok(names.includes('arch_prctl'));
    const old = dockerProfileToOci(profile, { arch: 'x86_64', capabilities: caps, kernel: '4.4.0' })!;
    assert.ok(!old.syscalls!.flatMap((s) => s.names).includes('ptrace'), 'kernel older than 4.8');
    const admin = dockerProfileToOci(profile, { arch: 'x86_64', capabilities: [...caps, 'CAP_SYS_ADMIN'], kernel: '6.18.0' })!;
    assert.ok(
      !admin.syscalls!.some((s) => s.names.includes('clone3') && s.action === 'SCMP_ACT_ERRNO'),
      'clone3 excluded with CAP_SYS_ADMIN',
    );
  });

  test('compiles to a long program for x86_64 that a busybox shell can live with', () => {
    const oci = dockerProfileToOci(profile, { arch: 'x86_64', capabilities: caps, kernel: '6.18.0' });
    const c = compile(oci);
    assert.ok(c.program.length > 255, `${c.program.length} instructions`);
    const x64 = (name: string, args: (number | bigint)[] = []) => run(c, X(name), args);
    for (const n of ['read', 'write', 'openat', 'execve', 'exit_group', 'rt_sigaction', 'newfstatat', 'getdents64', 'chroot', 'capset'])
      assert.equal(x64(n), ALLOW, n);
    for (const n of ['mount', 'unshare', 'setns', 'kexec_load', 'init_module', 'bpf', 'reboot', 'umount2', 'swapon'])
      assert.equal(x64(n), EPERM, n);
    assert.equal(x64('clone', [SIGCHLD]), ALLOW);
    assert.equal(x64('clone', [SIGCHLD | CLONE_NEWUSER]), EPERM);
    assert.equal(x64('clone3'), ENOSYS, 'so that glibc falls back to clone');
    assert.equal(x64('socket', [2, 1, 0]), ALLOW);
    assert.equal(x64('socket', [40, 1, 0]), EPERM, 'AF_VSOCK');
    assert.equal(x64('personality', [0]), ALLOW);
    assert.equal(x64('personality', [0xffffffff]), ALLOW);
    assert.equal(x64('personality', [1]), EPERM);
    assert.equal(x64('personality', [0x1_00000000n]), EPERM, '64-bit comparison');
    // Newer than every call the profile names (futex_waitv, 449): ENOSYS, as runc's stub.
    assert.equal(run(c, 460), ENOSYS);
    assert.equal(run(c, 1000), ENOSYS);
    // 32-bit x86 and x32 processes are filtered too.
    assert.equal(run(c, nr(I386, 'read'), [], AUDIT_ARCH_I386), ALLOW);
    assert.equal(run(c, nr(I386, 'socketcall'), [], AUDIT_ARCH_I386), ALLOW);
    assert.equal(run(c, nr(I386, 'mount'), [], AUDIT_ARCH_I386), EPERM);
    assert.equal(run(c, nr(I386, 'socket'), [40], AUDIT_ARCH_I386), EPERM);
    assert.equal(run(c, nr(X32, 'read')), ALLOW);
    assert.equal(run(c, nr(X32, 'mount')), EPERM);
    assert.equal(run(c, 0, [], AUDIT_ARCH_AARCH64), KILL_THREAD);
    // The dispatch is a search tree: a few instructions per call, not hundreds.
    const steps = runProgram(c.program, { nr: X('write'), arch: AUDIT_ARCH_X86_64 }).steps;
    assert.ok(steps < 20, `${steps} instructions for write`);
  });

  test('compiles for aarch64 with 32-bit ARM', () => {
    const oci = dockerProfileToOci(profile, { arch: 'aarch64', capabilities: caps, kernel: '6.18.0' })!;
    assert.deepEqual(oci.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    const c = compile(oci, 'aarch64');
    assert.ok(c.program.length > 255);
    const a64 = (name: string, args: number[] = []) => run(c, nr(AARCH64, name), args, AUDIT_ARCH_AARCH64);
    assert.equal(a64('read'), ALLOW);
    assert.equal(a64('openat'), ALLOW);
    assert.equal(a64('mount'), EPERM);
    assert.equal(a64('clone', [SIGCHLD]), ALLOW);
    assert.equal(a64('clone', [CLONE_NEWUSER]), EPERM);
    assert.equal(a64('clone3'), ENOSYS);
    const arm = (name: string) => run(c, nr(ARM, name), [], AUDIT_ARCH_ARM);
    assert.equal(arm('read'), ALLOW);
    assert.equal(arm('set_tls'), ALLOW);
    assert.equal(arm('cacheflush'), ALLOW);
    assert.equal(arm('mount'), EPERM);
    assert.equal(run(c, 0, [], AUDIT_ARCH_X86_64), KILL_THREAD);
  });
});
