/**
 * The harness's own assertions can fail: a crash must not pass for a refusal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunResult } from '../helpers/runtime.js';
import { expectError } from './harness.js';

const result = (r: Partial<RunResult>): RunResult => ({
  code: 1,
  signal: null,
  stdout: '',
  stderr: '',
  command: 'runtime state nosuch',
  timedOut: false,
  ...r,
});
const NOT_EXIST = /container does not exist/;

test('expectError accepts a refusal with the expected message', () => {
  expectError(result({ stderr: 'time="…" level=error msg="container does not exist"\n' }), 'state', NOT_EXIST);
});

test('expectError rejects exit 0, a signal, a crash, a guard timeout and another message', () => {
  const bad: Partial<RunResult>[] = [
    { code: 0 },
    { code: null, signal: 'SIGSEGV' },
    { code: 134, stderr: 'container does not exist\n' },
    { stderr: "TypeError: Cannot read properties of undefined (reading 'x')\n    at f (/x/berth.cjs:1:2)\ncontainer does not exist\n" },
    { stderr: 'panic: runtime error: invalid memory address\ngoroutine 1 [running]:\ncontainer does not exist\n' },
    { timedOut: true, code: null, signal: 'SIGKILL' },
    { stderr: 'error: permission denied\n' },
  ];
  for (const r of bad) assert.throws(() => expectError(result(r), 'state', NOT_EXIST), Error, JSON.stringify(r));
});
