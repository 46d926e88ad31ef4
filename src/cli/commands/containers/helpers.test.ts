import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startErrorStatus } from './attached.js';
import { envValue } from './exec.js';
import { apiTimestamp, parseGoDuration } from './logs.js';

describe('run exit statuses from the start error text', () => {
  it('maps as docker does', () => {
    assert.equal(startErrorStatus("Error response from daemon: exec 'x': executable file not found in $PATH"), 127);
    assert.equal(startErrorStatus('open /x: no such file or directory'), 127);
    assert.equal(startErrorStatus("exec '/etc': permission denied"), 126);
    assert.equal(startErrorStatus('read /etc: is a directory'), 126);
    assert.equal(startErrorStatus('No such image: x:latest'), 125);
  });
});

describe('logs time values', () => {
  it('parses Go durations', () => {
    assert.equal(parseGoDuration('42m'), 42 * 60e9);
    assert.equal(parseGoDuration('1h30m'), 5400e9);
    assert.equal(parseGoDuration('1.5s'), 1.5e9);
    assert.equal(parseGoDuration('-2s'), -2e9);
    assert.equal(parseGoDuration('10'), undefined);
    assert.equal(parseGoDuration('xyz'), undefined);
  });
  it('turns CLI values into the API form', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    assert.equal(apiTimestamp('10s', now), String(now / 1000 - 10));
    assert.equal(apiTimestamp('2013-01-02T13:23:37Z', now), '1357133017.000000000');
    assert.equal(apiTimestamp('2013-01-02T13:23:37.123456789Z', now), '1357133017.123456789');
    assert.equal(apiTimestamp('1357133017', now), '1357133017');
    assert.equal(apiTimestamp('0', now), '0');
    assert.throws(() => apiTimestamp('xyz', now), /failed to parse value as time or duration: "xyz"/);
  });
});

describe('exec environment', () => {
  it('fills a bare -e from the environment', () => {
    assert.equal(envValue('K', { K: 'v' }), 'K=v');
    assert.equal(envValue('K', {}), 'K');
    assert.equal(envValue('K=', { K: 'v' }), 'K=');
  });
});
