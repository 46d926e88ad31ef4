/**
 * Structural validation of config.json. JSON.parse accepts anything; this makes sure every field
 * Berth reads has the type the runtime-spec gives it, and names the field that does not:
 * `config.json: process.args[1]: expected string, got number`. Unknown fields are allowed, as the
 * spec requires ("implementations MUST NOT error on unknown properties").
 */
import { invalid } from '../common/errors.js';
import { arrayOf, bool, type Check, checkIn, fail, int, mapOf, nullable, obj, oneOf, str, uint } from './check.js';
import { NAMESPACE_TYPES, type Process, type Spec } from './spec.js';

const idMapping = obj({ containerID: uint, hostID: uint, size: uint }, ['containerID', 'hostID', 'size']);
const hook = obj({ path: str, args: arrayOf(str), env: arrayOf(str), timeout: int }, ['path']);
const hooks = obj(
  Object.fromEntries(
    ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].map((h) => [h, arrayOf(hook)]),
  ),
);
const rlimitValue: Check = (v, at) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1) fail(at, 'non-negative integer', v);
};
const process = obj(
  {
    terminal: bool,
    consoleSize: obj({ height: uint, width: uint }, ['height', 'width']),
    user: obj({ uid: uint, gid: uint, umask: uint, additionalGids: arrayOf(uint), username: str }, ['uid', 'gid']),
    args: arrayOf(str),
    commandLine: str,
    env: arrayOf(str),
    cwd: str,
    capabilities: obj(Object.fromEntries(['bounding', 'effective', 'inheritable', 'permitted', 'ambient'].map((s) => [s, arrayOf(str)]))),
    rlimits: arrayOf(obj({ type: str, soft: rlimitValue, hard: rlimitValue }, ['type', 'soft', 'hard'])),
    noNewPrivileges: bool,
    apparmorProfile: str,
    oomScoreAdj: int,
    selinuxLabel: str,
  },
  ['cwd'],
);
const mount = obj(
  {
    destination: str,
    type: str,
    source: str,
    options: arrayOf(str),
    uidMappings: arrayOf(idMapping),
    gidMappings: arrayOf(idMapping),
  },
  ['destination'],
);
const linux = obj({
  namespaces: arrayOf(obj({ type: oneOf(...NAMESPACE_TYPES), path: str }, ['type'])),
  uidMappings: arrayOf(idMapping),
  gidMappings: arrayOf(idMapping),
  timeOffsets: mapOf(obj({ secs: int, nanosecs: uint })),
  devices: arrayOf(
    obj({ type: oneOf('c', 'b', 'u', 'p'), path: str, major: int, minor: int, fileMode: uint, uid: uint, gid: uint }, ['type', 'path']),
  ),
  cgroupsPath: str,
  resources: obj({
    devices: arrayOf(obj({ allow: bool, type: oneOf('a', 'c', 'b'), major: nullable(int), minor: nullable(int), access: str }, ['allow'])),
    pids: obj({ limit: int }, ['limit']),
    unified: mapOf(str),
  }),
  rootfsPropagation: oneOf('', 'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'),
  sysctl: mapOf(str),
  maskedPaths: arrayOf(str),
  readonlyPaths: arrayOf(str),
  mountLabel: str,
});

const spec = obj(
  {
    ociVersion: str,
    process,
    root: obj({ path: str, readonly: bool }, ['path']),
    hostname: str,
    domainname: str,
    mounts: arrayOf(mount),
    hooks,
    annotations: mapOf(str),
    linux,
  },
  ['ociVersion'],
);

/** Throws an invalid-argument BerthError naming the first field that is wrong. */
export function validateSpec(value: unknown): Spec {
  checkIn('config.json', spec, value);
  return value as Spec;
}

/** Validates a process object given on its own (`exec --process FILE`). */
export function parseProcess(text: string, file: string): Process {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`parse '${file}': ${(err as Error).message}`, file);
  }
  checkIn(file, process, value);
  return value as Process;
}

/** Parses config.json text; a syntax error names the file and the position. */
export function parseSpec(text: string, file = 'config.json'): Spec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`parse '${file}': ${(err as Error).message}`, file);
  }
  return validateSpec(value);
}
