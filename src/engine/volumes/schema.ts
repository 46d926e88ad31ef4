/**
 * The volumes table. db.ts's `migrations` is shared and not edited here: the integrator appends
 * VOLUMES_MIGRATION to it. Until then VolumeStore runs it at open, which is why it says IF NOT
 * EXISTS (and so it stays harmless when the appended migration later runs on a database that
 * already has the table).
 *
 * A row is the volume: the directory `<data-root>/volumes/<name>/` becomes a volume when its row
 * commits (it is created before), and stops being one when the row is deleted (it is removed
 * after). A directory without a row is garbage that VolumeStore.open removes.
 */
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
