/**
 * The metadata database: one SQLite file (better-sqlite3 12; 13 crashes on Node 20) holding
 * everything the image side and, later, the engine know: content labels, snapshots, images,
 * leases. The database is the single commit point of every operation: blobs and snapshot
 * directories on disk become part of the store when their row commits, and GC removes what no
 * row reaches (so a crash between a file and its row leaves only garbage, never a dangling row
 * that claims a missing file... the row is written after the file is durable).
 *
 * WAL mode with synchronous=NORMAL: a committed transaction survives any crash of our process
 * (SIGKILL at any line), and the database is never corrupted; a power loss may drop the last
 * commits, which leaves files that no row claims — garbage that GC removes, the same state as a
 * crash just before those commits. FULL cost an fsync per commit, blocking berthd's event loop
 * several times per container (better-sqlite3 is synchronous). The schema is
 * versioned with PRAGMA user_version; `migrations[i]` takes version i to i+1, each in one
 * transaction. Never edit a migration that has shipped: append a new one.
 */
import Database from 'better-sqlite3';
import { BerthError } from '../common/errors.js';

export type Db = Database.Database;

export const VOLUMES_MIGRATION = `
  CREATE TABLE IF NOT EXISTS volumes (
    name        TEXT PRIMARY KEY,          -- [a-zA-Z0-9][a-zA-Z0-9_.-]+, or 64 hex for an anonymous one
    driver      TEXT NOT NULL,             -- 'local'
    mountpoint  TEXT NOT NULL,             -- <data-root>/volumes/<name>/_data at creation
    options     TEXT,                      -- JSON object of strings (driver options), or NULL
    labels      TEXT,                      -- JSON object of strings, or NULL
    created_at  INTEGER NOT NULL           -- ms since the epoch
  ) STRICT;
`;

export const migrations: readonly string[] = [
  // 0 → 1: the image side.
  `
  CREATE TABLE content (
    digest      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,          -- ms since the epoch
    updated_at  INTEGER NOT NULL,
    labels      TEXT NOT NULL DEFAULT '{}' -- JSON object of strings
  ) STRICT;

  CREATE TABLE snapshots (
    snapshotter TEXT NOT NULL,             -- 'overlayfs' | 'native'
    key         TEXT NOT NULL,             -- committed: the name (a chain ID); active/view: the key
    id          INTEGER NOT NULL,          -- directory name under <root>/snapshots/<snapshotter>/
    kind        TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
    parent      TEXT,                      -- key of a committed snapshot of the same snapshotter
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    labels      TEXT NOT NULL DEFAULT '{}',
    size        INTEGER,                   -- bytes, recorded at commit
    inodes      INTEGER,
    PRIMARY KEY (snapshotter, key),
    UNIQUE (snapshotter, id),
    FOREIGN KEY (snapshotter, parent) REFERENCES snapshots (snapshotter, key)
  ) STRICT;
  CREATE INDEX snapshots_parent ON snapshots (snapshotter, parent);

  CREATE TABLE images (
    name              TEXT PRIMARY KEY,    -- normalized reference: docker.io/library/busybox:latest, or name@sha256:…
    target_media_type TEXT NOT NULL,
    target_digest     TEXT NOT NULL,       -- manifest or index digest
    target_size       INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    labels            TEXT NOT NULL DEFAULT '{}'
  ) STRICT;
  CREATE INDEX images_target ON images (target_digest);

  CREATE TABLE leases (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,                    -- NULL: until deleted
    labels     TEXT NOT NULL DEFAULT '{}'
  ) STRICT;

  -- What a lease keeps alive: type 'content' (a digest), 'ingest' (an ingest ref),
  -- 'snapshot/<snapshotter>' (a key).
  CREATE TABLE lease_resources (
    lease_id TEXT NOT NULL REFERENCES leases (id) ON DELETE CASCADE,
    type     TEXT NOT NULL,
    resource TEXT NOT NULL,
    PRIMARY KEY (lease_id, type, resource)
  ) STRICT;
  CREATE INDEX lease_resources_resource ON lease_resources (type, resource);
  `,
  // 1 → 2: the engine's containers (src/engine/containers/store.ts). The record is JSON (the
  // shape of docker inspect's parts, src/engine/containers/record.ts); name and image are
  // columns for uniqueness and for "is this image in use".
  `
  CREATE TABLE containers (
    id         TEXT PRIMARY KEY,            -- 64 hex
    name       TEXT NOT NULL UNIQUE,        -- without the leading '/'
    image_id   TEXT NOT NULL,               -- sha256:<config digest>
    created_at INTEGER NOT NULL,            -- ms since the epoch
    record     TEXT NOT NULL                -- JSON
  ) STRICT;
  CREATE INDEX containers_image ON containers (image_id);
  `,
  // 2 → 3: named volumes (src/engine/volumes/schema.ts; IF NOT EXISTS there, since VolumeStore
  // also runs it at open).
  VOLUMES_MIGRATION,
];

export interface OpenOptions {
  readonly?: boolean;
}

/** Opens (creating when needed) and migrates the database at `file`. The caller owns it: close(). */
export function openMetadata(file: string, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw new BerthError('unavailable', `open metadata '${file}': ${(err as Error).message}`, { cause: err, object: file });
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (!options.readonly) migrate(db, file);
    reusePreparedStatements(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Statements are prepared once per connection and kept by their SQL: callers write
 * `db.prepare(sql).get(…)` where they use it, and preparing costs more than running most of
 * them (~1.6 ms of berthd's CPU per container start, in a profile). A kept statement is handed
 * out with its modes reset (pluck, raw, expand are settings of the statement object), and a
 * fresh one is prepared while it is busy (an iteration in progress).
 */
const KEPT_STATEMENTS = 512;
function reusePreparedStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const kept = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const s = kept.get(sql);
    if (s === undefined) {
      const fresh = prepare(sql);
      if (kept.size < KEPT_STATEMENTS) kept.set(sql, fresh);
      return fresh;
    }
    if (s.busy) return prepare(sql);
    if (s.reader) s.pluck(false).raw(false).expand(false);
    return s;
  }) as Db['prepare'];
}

function migrate(db: Db, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    throw new BerthError(
      'failed-precondition',
      `open metadata '${file}': schema version ${version} is newer than this berth knows (${migrations.length}); upgrade berth`,
      { object: file },
    );
  }
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** Labels are stored as a JSON object of strings. */
export function parseLabels(json: string): Record<string, string> {
  const v = JSON.parse(json) as unknown;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
}
