import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from './list.js';

test('the table matches runc (tabwriter min width 12, padding 3)', () => {
  assert.equal(formatTable([]), 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  const row = {
    ociVersion: '1.0.2-dev',
    id: 't1',
    pid: 2177,
    status: 'running' as const,
    bundle: '/tmp/rs',
    rootfs: '/tmp/rs/rootfs',
    created: '2026-11-29T09:19:40.579529885Z',
    owner: 'root',
  };
  assert.equal(
    formatTable([row]),
    'ID          PID         STATUS      BUNDLE      CREATED                          OWNER\n' +
      't1          2177        running     /tmp/rs     2026-11-29T09:19:40.579529885Z   root\n',
  );
});
