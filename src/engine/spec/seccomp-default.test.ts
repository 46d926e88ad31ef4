import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { nativeSeccompArch } from '../../runtime/seccomp/arch.js';
import { compileSeccomp } from '../../runtime/seccomp/compile.js';
import { dockerProfileToOci } from '../../runtime/seccomp/docker-profile.js';
import { planSeccomp } from '../../runtime/seccomp/index.js';
import { runProgram } from '../../runtime/seccomp/interp.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './caps.js';
import { DOCKER_SECCOMP_PROFILE_VERSION, dockerDefaultSeccompProfile } from './seccomp-default.js';

describe("Docker's default seccomp profile", () => {
  test('is moby profiles/seccomp/default.json at the version it names, rule for rule', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/seccomp/docker-default.json', import.meta.url), 'utf8'));
    assert.deepEqual(JSON.parse(JSON.stringify(dockerDefaultSeccompProfile)), fixture);
    assert.match(DOCKER_SECCOMP_PROFILE_VERSION, /^moby@[0-9a-f]{40}$/);
  });

  for (const arch of ['x86_64', 'aarch64'] as const) {
    for (const [what, caps] of [
      ['default capabilities', DEFAULT_CAPABILITIES],
      ['every capability', ALL_CAPABILITIES],
    ] as const) {
      test(`compiles for ${arch} with ${what}`, () => {
        const oci = dockerProfileToOci(dockerDefaultSeccompProfile, { arch, capabilities: caps, kernel: '6.18.0' });
        const c = compileSeccomp(oci, arch);
        assert.ok(c.program.length > 100, `${c.program.length} instructions`);
        assert.equal(c.bytes.length, c.program.length * 8);
        assert.ok(!c.unknownSyscalls.includes('read') && !c.unknownSyscalls.includes('openat'), 'the common calls are known');
      });
    }
  }

  test('the compiled filter allows what a shell needs and refuses mount without CAP_SYS_ADMIN', () => {
    const arch = nativeSeccompArch();
    const oci = dockerProfileToOci(dockerDefaultSeccompProfile, { arch, capabilities: DEFAULT_CAPABILITIES, kernel: '6.18.0' });
    const plan = planSeccomp(oci, arch);
    assert.ok(plan && plan.program.length > 0);
    if (arch !== 'x86_64') return;
    const c = compileSeccomp(oci, arch);
    const AUDIT_ARCH_X86_64 = 0xc000003e;
    const ret = (nr: number) => runProgram(c.program, { nr, arch: AUDIT_ARCH_X86_64 }).ret >>> 0;
    const ALLOW = 0x7fff0000;
    assert.equal(ret(0), ALLOW, 'read');
    assert.equal(ret(59), ALLOW, 'execve');
    assert.equal(ret(165), 0x00050001, 'mount: EPERM');
  });
});
