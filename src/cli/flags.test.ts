import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { arityError, FlagError, goQuote, parseFlags, parseGoInt, splitCsv } from './flags.js';
import type { FlagSpec } from './types.js';

const specs: FlagSpec[] = [
  { name: 'detach', short: 'd', kind: 'bool', usage: '' },
  { name: 'interactive', short: 'i', kind: 'bool', usage: '' },
  { name: 'tty', short: 't', kind: 'bool', usage: '' },
  { name: 'time', kind: 'int', usage: '' },
  { name: 'timeout', short: 'T', kind: 'int', usage: '', default: 10 },
  { name: 'name', kind: 'string', usage: '' },
  { name: 'env', short: 'e', kind: 'list', usage: '' },
  { name: 'cap-add', kind: 'slice', usage: '' },
  { name: 'cpus', kind: 'float', usage: '' },
  { name: 'keep', kind: 'bool', usage: '', default: true },
  { name: 'dns', kind: 'slice', usage: '', default: ['1.1.1.1'] },
];

const p = (argv: string[], interspersed = true) => parseFlags(specs, argv, { interspersed });
const err = (argv: string[], msg: string | RegExp) =>
  assert.throws(
    () => p(argv),
    (e: unknown) => {
      assert.ok(e instanceof FlagError, String(e));
      assert.equal(e.exitCode, 125);
      if (typeof msg === 'string') assert.equal(e.message, msg);
      else assert.match(e.message, msg);
      return true;
    },
  );

describe('parseFlags', () => {
  it('bools: short, long, combined, =value', () => {
    const r = p(['-d', 'x']);
    assert.equal(r.flags.bool('detach'), true);
    assert.equal(r.flags.bool('tty'), false);
    assert.deepEqual(r.args, ['x']);
    const it2 = p(['-it', 'img']);
    assert.equal(it2.flags.bool('interactive'), true);
    assert.equal(it2.flags.bool('tty'), true);
    assert.equal(p(['--detach=false']).flags.bool('detach'), false);
    assert.equal(p(['--detach=false']).flags.changed('detach'), true);
    assert.equal(p(['-d=0']).flags.bool('detach'), false);
    assert.equal(p(['--keep=F']).flags.bool('keep'), false);
    assert.equal(p([]).flags.bool('keep'), true);
    assert.equal(p([]).flags.changed('keep'), false);
    // a bool never takes the next word
    assert.deepEqual(p(['-d', 'false']).args, ['false']);
  });

  it('values: -T5, -T 5, -T=5, --timeout=5, --timeout 5; the last wins', () => {
    for (const argv of [['-T5'], ['-T', '5'], ['-T=5'], ['--timeout=5'], ['--timeout', '5'], ['-T', '1', '--timeout', '5']]) {
      assert.equal(p(argv).flags.int('timeout'), 5, argv.join(' '));
    }
    assert.equal(p([]).flags.int('timeout'), 10);
    assert.equal(p(['-dT', '7']).flags.int('timeout'), 7);
    assert.equal(p(['-dT7']).flags.bool('detach'), true);
    assert.equal(p(['--name', '--detach']).flags.string('name'), '--detach');
    assert.equal(p(['--name=']).flags.string('name'), '');
    assert.equal(p(['--name=a=b']).flags.string('name'), 'a=b');
    assert.equal(p(['--cpus', '1.5']).flags.float('cpus'), 1.5);
    assert.equal(p(['-T', '-3']).flags.int('timeout'), -3);
    assert.equal(p(['-T', '0x10']).flags.int('timeout'), 16);
  });

  it('list and slice kinds repeat; slices split as CSV; the first occurrence replaces the default', () => {
    assert.deepEqual(p(['-e', 'A=1,2', '-e', 'B=2']).flags.list('env'), ['A=1,2', 'B=2']);
    assert.deepEqual(p(['--cap-add', 'a,b', '--cap-add=c']).flags.list('cap-add'), ['a', 'b', 'c']);
    assert.deepEqual(p(['--cap-add', 'a,"b,c"']).flags.list('cap-add'), ['a', 'b,c']);
    assert.deepEqual(p([]).flags.list('dns'), ['1.1.1.1']);
    assert.deepEqual(p(['--dns', '8.8.8.8', '--dns', '9.9.9.9']).flags.list('dns'), ['8.8.8.8', '9.9.9.9']);
    assert.deepEqual(p(['-eA', '-e=B']).flags.list('env'), ['A', 'B']);
  });

  it('-- ends the flags; a lone - is a positional; interspersed or not', () => {
    const r = p(['a', '-d', '--', '-t', '--x']);
    assert.deepEqual(r.args, ['a', '-t', '--x']);
    assert.equal(r.flags.bool('detach'), true);
    assert.deepEqual(p(['-', '-d']).args, ['-']);
    const run = p(['-d', 'busybox', 'ls', '-la', '--', 'x'], false);
    assert.deepEqual(run.args, ['busybox', 'ls', '-la', '--', 'x']);
    assert.equal(run.flags.bool('detach'), true);
    assert.deepEqual(p(['-d', '--', 'busybox', '--', 'x'], false).args, ['busybox', '--', 'x']);
  });

  it('-h and --help on every command', () => {
    assert.equal(p(['-h']).help, true);
    assert.equal(p(['x', '--help']).help, true);
    assert.equal(p(['-dh']).help, true);
    assert.equal(p(['--help=false']).help, false);
    // after the first positional of a non-interspersed command, --help is the container's
    assert.equal(p(['busybox', '--help'], false).help, false);
  });

  it("errors with pflag's texts", () => {
    err(['--foo'], 'unknown flag: --foo');
    err(['--foo=1'], 'unknown flag: --foo');
    err(['-z'], "unknown shorthand flag: 'z' in -z");
    err(['-dzq'], "unknown shorthand flag: 'z' in -zq");
    err(['-T', 'x'], 'invalid argument "x" for "-T, --timeout" flag: strconv.ParseInt: parsing "x": invalid syntax');
    err(['--time=1.5'], 'invalid argument "1.5" for "--time" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
    err(
      ['--time=99999999999999999999'],
      'invalid argument "99999999999999999999" for "--time" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range',
    );
    err(['--detach=x'], 'invalid argument "x" for "-d, --detach" flag: strconv.ParseBool: parsing "x": invalid syntax');
    err(['--cpus=a'], 'invalid argument "a" for "--cpus" flag: strconv.ParseFloat: parsing "a": invalid syntax');
    err(['-T'], "flag needs an argument: 'T' in -T");
    err(['-dT'], "flag needs an argument: 'T' in -T");
    err(['--timeout'], 'flag needs an argument: --timeout');
    err(['---x'], 'bad flag syntax: ---x');
    err(
      ['--cap-add', 'a"b'],
      /^invalid argument "a\\"b" for "--cap-add" flag: parse error on line 1, column 2: bare " in non-quoted-field$/,
    );
  });

  it('asking for an undeclared flag is a programming error', () => {
    assert.throws(() => p([]).flags.bool('nope'));
    assert.throws(() => p([]).flags.string('detach'));
  });

  it('property: positionals without dashes pass through in order, flags anywhere (interspersed)', () => {
    const word = fc.stringMatching(/^[a-z0-9/:._=]{1,8}$/);
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 6 }),
        fc.array(fc.constantFrom('-d', '-it', '--tty', '-T3', '-e=X'), { maxLength: 4 }),
        fc.nat(),
        (args, flags, seed) => {
          const argv = [...args];
          for (const [k, f] of flags.entries()) argv.splice((seed + k) % (argv.length + 1), 0, f);
          const r = p(argv);
          assert.deepEqual(r.args, args);
          assert.equal(r.flags.bool('detach'), flags.includes('-d'));
        },
      ),
    );
  });

  it('property: an int flag reads what String(n) writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => {
        assert.equal(p([`--time=${n}`]).flags.int('time'), n);
        assert.equal(p(['-T', String(n)]).flags.int('timeout'), n);
      }),
    );
  });

  it('property: CSV round trip of fields quoted as encoding/csv writes them', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 5 }), (fields) => {
        fc.pre(!(fields.length === 1 && fields[0] === ''));
        const line = fields.map((f) => (/[",\n\r]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
        const r = splitCsv(line);
        assert.ok('values' in r, line);
        assert.deepEqual(r.values, fields);
      }),
    );
  });

  it('property: hostile argv never throws anything but a FlagError', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 8 }), fc.boolean(), (argv, inter) => {
        try {
          p(argv, inter);
        } catch (e) {
          assert.ok(e instanceof FlagError, String(e));
        }
      }),
    );
  });
});

describe('Go number and quoting helpers', () => {
  it('parseGoInt follows strconv.ParseInt(s, 0, 64)', () => {
    assert.deepEqual(parseGoInt('010'), { value: 8 });
    assert.deepEqual(parseGoInt('0b101'), { value: 5 });
    assert.deepEqual(parseGoInt('0o17'), { value: 15 });
    assert.deepEqual(parseGoInt('0x_1F'), { value: 31 });
    assert.deepEqual(parseGoInt('+7'), { value: 7 });
    assert.ok('error' in parseGoInt('1_000'));
    assert.ok('error' in parseGoInt(''));
    assert.ok('error' in parseGoInt('08'));
    assert.ok('error' in parseGoInt(' 1'));
  });
  it('goQuote escapes like %q', () => {
    assert.equal(goQuote('a"b\\c\n'), '"a\\"b\\\\c\\n"');
    assert.equal(goQuote('\x01'), '"\\x01"');
  });
});

describe('arityError', () => {
  const a = (n: number, arity: { min?: number; max?: number }) => arityError('berth', 'berth x', Array(n).fill('a'), arity);
  it("has the docker CLI's texts and hints", () => {
    assert.deepEqual(a(0, { min: 1 }), { message: "berth: 'berth x' requires at least 1 argument", hint: 'See' });
    assert.deepEqual(a(1, { min: 2 }), { message: "berth: 'berth x' requires at least 2 arguments", hint: 'See' });
    assert.deepEqual(a(1, { max: 0 }), { message: "berth: 'berth x' accepts no arguments", hint: 'Run' });
    assert.deepEqual(a(1, { min: 2, max: 2 }), { message: "berth: 'berth x' requires 2 arguments", hint: 'Run' });
    assert.deepEqual(a(3, { min: 1, max: 2 }), { message: "berth: 'berth x' requires at least 1 and at most 2 arguments", hint: 'Run' });
    assert.deepEqual(a(2, { max: 1 }), { message: "berth: 'berth x' requires at most 1 argument", hint: 'See' });
    assert.equal(a(1, { min: 1, max: 2 }), undefined);
    assert.equal(a(5, {}), undefined);
    assert.equal(arityError('berth', 'x', [], undefined), undefined);
  });
});
