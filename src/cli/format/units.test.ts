import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesSize,
  containerStatus,
  formatDuration,
  fromHumanSize,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  parseDuration,
  ramInBytes,
  rfc3339,
  timeAgo,
} from './units.js';

const KB = 1000;
const MB = 1000 * KB;
const GB = 1000 * MB;
const TB = 1000 * GB;
const PB = 1000 * TB;

describe('go-units sizes', () => {
  it('HumanSize: decimal, 4 significant digits', () => {
    const table: [number, string][] = [
      [0, '0B'],
      [999, '999B'],
      [1000, '1kB'],
      [1024, '1.024kB'],
      [1e6, '1MB'],
      [1048576, '1.049MB'],
      [2 * MB, '2MB'],
      [3.42 * GB, '3.42GB'],
      [5.372 * TB, '5.372TB'],
      [2.22 * PB, '2.22PB'],
      [1e21, '1ZB'],
      [1e24, '1YB'],
      [1e25, '10YB'],
    ];
    for (const [n, s] of table) assert.equal(humanSize(n), s, String(n));
  });
  it('HumanSizeWithPrecision 3, as ps, images and history print sizes', () => {
    const table: [number, string][] = [
      [0, '0B'],
      [2, '2B'],
      [1234567, '1.23MB'],
      [5200, '5.2kB'],
      [999999, '1e+03kB'],
      [4_194_304, '4.19MB'],
      [77_800_000, '77.8MB'],
      [1_234_000_000, '1.23GB'],
    ];
    for (const [n, s] of table) assert.equal(humanSizeWithPrecision(n, 3), s, String(n));
  });
  it('BytesSize: binary units', () => {
    const table: [number, string][] = [
      [1, '1B'],
      [1024, '1KiB'],
      [1024 * 1024, '1MiB'],
      [1.5 * 1024 * 1024, '1.5MiB'],
      [3.42 * 1024 ** 3, '3.42GiB'],
      [5.372 * 1024 ** 4, '5.372TiB'],
      [2.22 * 1024 ** 5, '2.22PiB'],
      [1023, '1023B'],
    ];
    for (const [n, s] of table) assert.equal(bytesSize(n), s, String(n));
  });
  it('FromHumanSize: decimal suffixes, case-insensitive, optional b', () => {
    const table: [string, number][] = [
      ['32', 32],
      ['32b', 32],
      ['32B', 32],
      ['32k', 32 * KB],
      ['32K', 32 * KB],
      ['32kb', 32 * KB],
      ['32Kb', 32 * KB],
      ['32Mb', 32 * MB],
      ['32Gb', 32 * GB],
      ['32Tb', 32 * TB],
      ['32Pb', 32 * PB],
      ['32.5', 32],
      ['32.5kB', 32500],
      ['0.3 K', 300],
      ['.3kB', 300],
      ['32 mb', 32 * MB],
      ['32kib', 32 * KB],
    ];
    for (const [s, n] of table) assert.equal(fromHumanSize(s), n, s);
  });
  it('RAMInBytes: binary suffixes', () => {
    const table: [string, number][] = [
      ['32', 32],
      ['32b', 32],
      ['32k', 32 * 1024],
      ['32kb', 32 * 1024],
      ['32Kib', 32 * 1024],
      ['32KIB', 32 * 1024],
      ['64m', 64 * 1024 * 1024],
      ['32Mb', 32 * 1024 * 1024],
      ['1g', 1024 ** 3],
      ['32Gb', 32 * 1024 ** 3],
      ['32Tb', 32 * 1024 ** 4],
      ['32Pb', 32 * 1024 ** 5],
      ['512k', 512 * 1024],
      ['32.3', 32],
      ['32.3k', 33075],
      ['32.3 kb', 33075],
      ['0', 0],
    ];
    for (const [s, n] of table) assert.equal(ramInBytes(s), n, s);
  });
  it('rejects sizes with go-units’ and strconv’s texts', () => {
    const table: [string, string][] = [
      ['', "invalid size: ''"],
      ['hello', "invalid size: 'hello'"],
      ['-32', "invalid size: '-32'"],
      ['32bm', "invalid suffix: 'bm'"],
      ['32kbb', "invalid suffix: 'kbb'"],
      ['32kibb', "invalid suffix: 'kibb'"],
      ['32x', "invalid suffix: 'x'"],
      ['32KX', "invalid suffix: 'kx'"],
      [' 32 ', 'strconv.ParseFloat: parsing " 32": invalid syntax'],
      ['1.2.3m', 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'],
      ['m32', 'strconv.ParseFloat: parsing "m32": invalid syntax'],
    ];
    for (const [s, msg] of table) assert.throws(() => ramInBytes(s), { message: msg }, s);
  });
});

describe('durations', () => {
  it('HumanDuration', () => {
    const s = 1000;
    const m = 60 * s;
    const h = 60 * m;
    const d = 24 * h;
    const table: [number, string][] = [
      [-5 * s, 'Less than a second'],
      [0, 'Less than a second'],
      [999, 'Less than a second'],
      [1 * s, '1 second'],
      [2 * s, '2 seconds'],
      [59 * s, '59 seconds'],
      [60 * s, 'About a minute'],
      [119 * s, 'About a minute'],
      [2 * m, '2 minutes'],
      [59 * m, '59 minutes'],
      [60 * m, 'About an hour'],
      [89 * m, 'About an hour'],
      [90 * m, '2 hours'],
      [47 * h, '47 hours'],
      [48 * h, '2 days'],
      [13 * d, '13 days'],
      [14 * d, '2 weeks'],
      [59 * d, '8 weeks'],
      [60 * d, '2 months'],
      [729 * d, '24 months'],
      [730 * d, '2 years'],
      [3 * 365 * d, '3 years'],
    ];
    for (const [ms, text] of table) assert.equal(humanDuration(ms), text, String(ms));
    assert.equal(timeAgo(1000, 1000_000 + 3 * h), '3 hours ago');
  });
  it('time.ParseDuration', () => {
    const table: [string, number][] = [
      ['0', 0],
      ['-0', 0],
      ['10s', 10e9],
      ['1.5s', 1.5e9],
      ['1h30m', 5400e9],
      ['300ms', 300e6],
      ['-2m', -120e9],
      ['+5s', 5e9],
      ['1µs', 1000],
      ['1μs', 1000],
      ['1us', 1000],
      ['7ns', 7],
      ['1.s', 1e9],
      ['.5m', 30e9],
      ['2h45m30.5s', (2 * 3600 + 45 * 60 + 30.5) * 1e9],
      ['0.000001s', 1000],
    ];
    for (const [s, ns] of table) assert.equal(parseDuration(s), ns, s);
  });
  it('time.ParseDuration errors, with Go’s texts', () => {
    const table: [string, string][] = [
      ['', 'time: invalid duration ""'],
      ['1', 'time: missing unit in duration "1"'],
      ['10', 'time: missing unit in duration "10"'],
      ['1x', 'time: unknown unit "x" in duration "1x"'],
      ['1sec', 'time: unknown unit "sec" in duration "1sec"'],
      ['.s', 'time: invalid duration ".s"'],
      ['s', 'time: invalid duration "s"'],
      ['-', 'time: invalid duration "-"'],
      ['1h-1m', 'time: unknown unit "h-" in duration "1h-1m"'],
      ['9999999999h', 'time: invalid duration "9999999999h"'],
    ];
    for (const [s, msg] of table) assert.throws(() => parseDuration(s), { message: msg }, s);
  });
  it('time.Duration.String', () => {
    const table: [number, string][] = [
      [0, '0s'],
      [1, '1ns'],
      [1500, '1.5µs'],
      [1e6, '1ms'],
      [1.5e9, '1.5s'],
      [5400e9, '1h30m0s'],
      [-90e9, '-1m30s'],
      [30e9, '30s'],
    ];
    for (const [ns, s] of table) assert.equal(formatDuration(ns), s, String(ns));
  });
});

describe('container status texts (the daemon’s State.String)', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const zero = '0001-01-01T00:00:00Z';
  it('reads like docker ps', () => {
    assert.equal(containerStatus({ StartedAt: zero, FinishedAt: zero }, now), 'Created');
    assert.equal(containerStatus({ Running: true, StartedAt: '2024-05-01T11:59:57Z' }, now), 'Up 3 seconds');
    assert.equal(containerStatus({ Running: true, Paused: true, StartedAt: '2024-05-01T09:00:00Z' }, now), 'Up 3 hours (Paused)');
    assert.equal(
      containerStatus({ Running: true, StartedAt: '2024-05-01T11:55:00Z', Health: { Status: 'starting' } }, now),
      'Up 5 minutes (health: starting)',
    );
    assert.equal(
      containerStatus({ Running: true, StartedAt: '2024-05-01T11:55:00Z', Health: { Status: 'healthy' } }, now),
      'Up 5 minutes (healthy)',
    );
    assert.equal(
      containerStatus({ StartedAt: '2024-05-01T11:00:00Z', FinishedAt: '2024-05-01T11:55:00Z', ExitCode: 137 }, now),
      'Exited (137) 5 minutes ago',
    );
    assert.equal(
      containerStatus(
        { Running: true, Restarting: true, ExitCode: 1, StartedAt: '2024-05-01T11:00:00Z', FinishedAt: '2024-05-01T11:59:58Z' },
        now,
      ),
      'Restarting (1) 2 seconds ago',
    );
    assert.equal(containerStatus({ Dead: true, StartedAt: '2024-05-01T11:00:00Z' }, now), 'Dead');
    assert.equal(containerStatus({ RemovalInProgress: true }, now), 'Removal In Progress');
  });
  it('prints RFC 3339 times in UTC when the zone is UTC', () => {
    if (new Date(0).getTimezoneOffset() !== 0) return;
    assert.equal(rfc3339(0), '1970-01-01T00:00:00Z');
  });
});
