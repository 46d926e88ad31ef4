/**
 * The snapshotter interface, after containerd's: snapshots are keyed (committed ones by name,
 * which for image layers is the chain ID), form a parent chain, and are handed out as mounts
 * **as data**. A snapshotter mounts nothing itself: berth-nsinit mounts a container's rootfs
 * inside the container's mount namespace, and callers that need the files on the host mount
 * them privately for the duration of a call.
 */

/** A serialized mount(2) call: what `mount -t <type> -o <options> <source> <target>` would do. */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

export type Kind = 'active' | 'view' | 'committed';

export interface Info {
  kind: Kind;
  /** The key of an active/view snapshot, or the name of a committed one. */
  name: string;
  parent?: string;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

export interface Usage {
  /** bytes on disk of this snapshot's own layer (not its parents) */
  size: number;
  inodes: number;
}

export interface Snapshotter extends AsyncDisposable {
  readonly name: string;
  stat(key: string): Promise<Info>;
  /** Updates labels (whole map, or 'labels.<key>' field paths); anything else is invalid-argument. */
  update(info: Pick<Info, 'name' | 'labels'>, fieldpaths?: string[]): Promise<Info>;
  usage(key: string): Promise<Usage>;
  mounts(key: string): Promise<Mount[]>;
  /** A new writable snapshot on top of committed `parent` (or empty). */
  prepare(key: string, parent?: string, options?: { labels?: Record<string, string> }): Promise<Mount[]>;
  /** A read-only view of committed `parent`. */
  view(key: string, parent?: string, options?: { labels?: Record<string, string> }): Promise<Mount[]>;
  /** Turns active `key` into committed `name`; `key` is gone afterwards. */
  commit(name: string, key: string, options?: { labels?: Record<string, string> }): Promise<void>;
  /** failed-precondition when the snapshot has children. */
  remove(key: string): Promise<void>;
  walk(fn: (info: Info) => void | Promise<void>, filter?: (info: Info) => boolean): Promise<void>;
  /**
   * Host directory that layer apply writes into for an active snapshot (overlayfs: its upperdir,
   * written with overlay whiteouts; native: the full copy, written flattened). Not part of
   * containerd's interface: our apply writes the upperdir directly, with no mount.
   */
  applyTarget(key: string): Promise<{ dir: string; mode: 'overlay' | 'flat'; parents: string[] }>;
  /**
   * Optional (overlayfs only): moves the files of active snapshot `from`, which has no parent,
   * into active snapshot `key` (freshly prepared, empty), keeping `key`'s root owner and mode,
   * and removes `from`. Lets a layer be applied before its parent is committed (speculative
   * apply, src/images/unpack.ts). Not part of containerd's interface.
   */
  adopt?(key: string, from: string): Promise<void>;
  /** Removes directories that no row refers to (after a crash); returns how many. */
  cleanup(): Promise<number>;
}
