/**
 * The OCI runtime conformance suite: every check of runtime.md (and the
 * runtime-tools CLI), config.md and config-linux.md (and runtime-linux.md),
 * against every selected runtime in the same run, with a results table at the
 * end. See README.md.
 *
 *   cd /work/main && node --import tsx --test --test-concurrency=1 test/conformance/*.test.ts
 */

import { configChecks } from './config.checks.js';
import { configLinuxChecks } from './config-linux.checks.js';
import { registerSuite } from './harness.js';
import { runtimeChecks } from './runtime.checks.js';

registerSuite('OCI runtime conformance', [...runtimeChecks, ...configChecks, ...configLinuxChecks]);
