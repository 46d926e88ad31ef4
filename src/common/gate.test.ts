import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gate } from './gate.js';

const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
};

test('at most `limit` tickets hold a slot; the others wait, first come first served', async () => {
  const gate = new Gate(2);
  let waits = 0;
  const onWait = () => waits++;
  const [a, b, c, d] = [gate.enter(onWait), gate.enter(onWait), gate.enter(onWait), gate.enter(onWait)];
  assert.deepEqual([a.held, b.held, c.held, d.held], [true, true, false, false]);
  assert.equal(waits, 2, 'onWait runs for the tickets that queue, once each');
  assert.equal(await settled(c.ready), false);
  b.leave();
  assert.equal(c.held, true, 'the freed slot passes straight to the first waiter');
  assert.equal(await settled(c.ready), true);
  assert.equal(d.held, false);
  // a newcomer cannot take a slot while tickets wait
  const e = gate.enter();
  assert.equal(e.held, false);
  a.leave();
  assert.deepEqual([d.held, e.held], [true, false]);
});

test('a waiting ticket that leaves gives up its place; leaving twice changes nothing', () => {
  const gate = new Gate(1);
  const a = gate.enter();
  const b = gate.enter();
  const c = gate.enter();
  b.leave();
  b.leave();
  a.leave();
  assert.equal(b.held, false);
  assert.equal(c.held, true, 'the slot went past the ticket that left');
  a.leave();
  const d = gate.enter();
  assert.equal(d.held, false, 'a second leave of a held ticket freed nothing');
  c.leave();
  assert.equal(d.held, true);
  d.leave();
  assert.equal(gate.enter().held, true, 'every slot is back');
});
