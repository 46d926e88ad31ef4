/**
 * The volumes table. The SQL lives with the other migrations in src/metadata/db.ts (migration 2 → 3); VolumeStore
 * also runs it at open, which is why it says IF NOT EXISTS.
 *
 * A row is the volume: the directory `<data-root>/volumes/<name>/` becomes a volume when its row
 * commits (it is created before), and stops being one when the row is deleted (it is removed
 * after). A directory without a row is garbage that VolumeStore.open removes.
 */
export { VOLUMES_MIGRATION } from '../../metadata/db.js';
