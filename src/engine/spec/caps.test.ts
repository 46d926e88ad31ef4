import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, knownCapabilities, normalizeCapability, tweakCapabilities } from './caps.js';

const known = knownCapabilities();
describe('capabilities (moby oci/caps)', () => {
  test("Docker's 14 defaults, in its order", () => {
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.deepEqual(tweakCapabilities([], [], false, known), DEFAULT_CAPABILITIES);
    assert.equal(ALL_CAPABILITIES.length, 41);
    assert.equal(knownCapabilities(37).at(-1), 'CAP_AUDIT_READ');
  });
  test('names: CAP_ optional, any case', () => {
    assert.equal(normalizeCapability('sys_admin'), 'CAP_SYS_ADMIN');
    assert.equal(normalizeCapability('Cap_Net_Admin'), 'CAP_NET_ADMIN');
    assert.equal(normalizeCapability('all'), 'ALL');
  });
  test('drop, then add at the end', () => {
    const caps = tweakCapabilities(['sys_admin'], ['kill', 'CAP_CHOWN'], false, known);
    assert.ok(!caps.includes('CAP_KILL') && !caps.includes('CAP_CHOWN'));
    assert.equal(caps.at(-1), 'CAP_SYS_ADMIN');
    assert.equal(caps.length, 13);
    assert.deepEqual(tweakCapabilities(['CHOWN'], [], false, known).filter((c) => c === 'CAP_CHOWN').length, 2, 'as dockerd: twice');
  });
  test('ALL', () => {
    assert.deepEqual(tweakCapabilities(['NET_BIND_SERVICE'], ['ALL'], false, known), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(tweakCapabilities([], ['all'], false, known), []);
    const all = tweakCapabilities(['ALL'], ['MKNOD'], false, known);
    assert.equal(all.length, known.length - 1);
    assert.ok(!all.includes('CAP_MKNOD'));
  });
  test('privileged: every capability the host knows, whatever else is asked', () => {
    assert.deepEqual(tweakCapabilities([], ['ALL'], true, knownCapabilities(37)), ALL_CAPABILITIES.slice(0, 38));
  });
  test('unknown names are refused, naming the field', () => {
    assert.throws(
      () => tweakCapabilities(['NOT_A_CAP'], [], false, known),
      /^BerthError: invalid CapAdd: unknown capability: "CAP_NOT_A_CAP"$/,
    );
    assert.throws(() => tweakCapabilities([], ['CAP_BPF'], false, knownCapabilities(37)), /invalid CapDrop: unknown capability: "CAP_BPF"/);
  });
});
