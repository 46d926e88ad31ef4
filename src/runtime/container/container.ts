/**
 * A container as the runtime keeps it: a directory `<root>/<id>/` holding `state.json` (written
 * atomically, the single record of the container) and, between create and start, `exec.sock`
 * (the start socket the init stage listens on). The status is not stored but derived each time
 * from the process and the socket, as runc does with its fifo, so it is never stale after a crash.
 *
 * The record exists before create's first side effect (see create.ts): it names the cgroups
 * create is about to make, and is completed with the init's pid and then marked created. So
 * whatever point create dies at, `delete --force` finds what to kill and to remove.
 *
 * Names in the state root that are not container ids (ids cannot contain '~') belong to the
 * runtime: `~c-<random>` a record being staged by create, `~d-<random>` (a tomb) a container
 * being torn down by delete, `~lock-salt` (lock.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, invalid } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/fs.js';
import { OCI_VERSION, type Spec, type State, type Status } from '../../oci/spec.js';
import { type CgroupDir, managerFor } from '../cgroups/manager.js';
import { type Effects, hostEffects } from '../effects.js';
import { isAlive } from './proc.js';

export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22: a reused pid will not match. */
  startTime: string;
}

export interface ContainerRecord {
  version: 1;
  id: string;
  /**
   * 'creating' from before create's first side effect until berth-nsinit reports `created`;
   * absent in records of older versions, which were written once created.
   */
  phase?: 'creating' | 'created';
  /** The process running create: while it lives, a creating container is not abandoned. */
  creator?: ProcessIdentity;
  /** Random, per create: create's later record updates check the record is still theirs. */
  nonce?: string;
  bundle: string;
  rootfs: string;
  /** Host pid of the container's init process (0 until berth-nsinit has reported it). */
  pid: number;
  /** Its start time (/proc/<pid>/stat field 22): a reused pid will not match. */
  pidStartTime: string;
  created: string;
  /** The config as it was at create time: later edits of config.json do not affect the container. */
  config: Spec;
  /** The container's cgroups; while creating, those create is making (or has made). */
  cgroups: CgroupDir[];
}

/** The start socket's name in the container's directory (see start.ts). */
export const START_SOCKET = 'exec.sock';

const ID_PATTERN = /^[\w+\-.]+$/;

/** Names of the state root that are the runtime's own (staged records, tombs, the lock salt). */
export const isRuntimeName = (name: string) => name.startsWith('~');

export function validateId(id: string): void {
  if (!id) throw invalid('container id cannot be empty', id);
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') throw invalid(`invalid container id format: ${id}`, id);
}

export interface HookState {
  ociVersion: string;
  id: string;
  status: Status;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export function hookState(config: Spec, id: string, bundle: string, status: Status, pid?: number): HookState {
  const s = { ociVersion: config.ociVersion || OCI_VERSION, id, status } as HookState;
  if (pid) s.pid = pid;
  s.bundle = bundle;
  if (config.annotations) s.annotations = config.annotations;
  return s;
}

/** Writes `<dir>/state.json` atomically. */
export function writeRecord(dir: string, record: ContainerRecord): void {
  writeFileAtomic(path.join(dir, 'state.json'), JSON.stringify(record), { mode: 0o600, durable: false });
}

/** Reads `<dir>/state.json`; undefined if there is none. */
export function readRecord(dir: string): ContainerRecord | undefined {
  const file = path.join(dir, 'state.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fromErrno('read', file, err);
  }
  try {
    return JSON.parse(text) as ContainerRecord;
  } catch (err) {
    throw new BerthError('internal', `parse '${file}': ${(err as Error).message}`, { cause: err });
  }
}

export class Container {
  private constructor(
    readonly root: string,
    readonly record: ContainerRecord,
  ) {}

  static dir(root: string, id: string): string {
    return path.join(root, id);
  }

  get dir(): string {
    return Container.dir(this.root, this.record.id);
  }
  get id(): string {
    return this.record.id;
  }
  get startSocket(): string {
    return path.join(this.dir, START_SOCKET);
  }

  static async load(root: string, id: string): Promise<Container> {
    validateId(id);
    const record = readRecord(Container.dir(root, id));
    if (!record) throw new BerthError('not-found', 'container does not exist', { object: id });
    return new Container(root, record);
  }

  /** The container of a record in hand. */
  static async open(root: string, record: ContainerRecord): Promise<Container> {
    return new Container(root, record);
  }

  static async save(root: string, record: ContainerRecord): Promise<Container> {
    writeRecord(Container.dir(root, record.id), record);
    return new Container(root, record);
  }

  status(fx: Effects = hostEffects): Status {
    const { pid, pidStartTime, phase, creator } = this.record;
    if (phase === 'creating') {
      // Abandoned (creator and init gone) it is stopped: `delete` removes what is left.
      const alive = isAlive(pid, pidStartTime, fx) || (creator !== undefined && isAlive(creator.pid, creator.startTime, fx));
      return alive ? 'creating' : 'stopped';
    }
    if (!isAlive(pid, pidStartTime, fx)) return 'stopped';
    // paused: the freezer's state, derived like the rest
    // A paused container's freezer is frozen (a container without cgroups cannot be paused).
    if (this.record.cgroups.length > 0 && managerFor(this.record.cgroups, { effects: fx }).frozen()) return 'paused';
    if (existsSync(this.startSocket)) return 'created';
    return 'running';
  }

  /** The state as `runc state` prints it (owner is filled in by `list` only, as in runc). */
  state(status = this.status(), owner = ''): State {
    const r = this.record;
    const s: State = {
      ociVersion: r.config.ociVersion || OCI_VERSION,
      id: r.id,
      pid: status === 'stopped' ? 0 : r.pid,
      status,
      bundle: r.bundle,
      rootfs: r.rootfs,
      created: r.created,
    } as State;
    // runc's field order: annotations (when there are any) come before owner.
    if (r.config.annotations && Object.keys(r.config.annotations).length > 0) s.annotations = r.config.annotations;
    s.owner = owner;
    return s;
  }

  /** The OCI state handed to hooks: the spec's fields only. */
  hookState(status: Status, pid = this.record.pid): HookState {
    return hookState(this.record.config, this.record.id, this.record.bundle, status, pid);
  }

  async ownerUid(): Promise<number> {
    return statSync(this.dir).uid;
  }
}
