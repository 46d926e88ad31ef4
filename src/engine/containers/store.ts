/**
 * The containers' records in metadata.db (table `containers`, migration 1 → 2), with an
 * in-memory copy: berthd is the only writer, every change is written through (the row is the
 * commit point), and reads never touch the disk. Lookups as dockerd resolves a container
 * reference: a full id, a name (with or without '/'), or a unique id prefix.
 */
import { BerthError, notFound } from '../../common/errors.js';
import type { Db } from '../../metadata/db.js';
import type { ContainerRecord } from './record.js';

interface Row {
  id: string;
  name: string;
  record: string;
}

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  /** Names of containers being created (name → id), held from the request to the insert. */
  private readonly reserved = new Map<string, string>();

  constructor(private readonly db: Db) {
    for (const row of db.prepare('SELECT id, name, record FROM containers').all() as Row[]) {
      const rec = JSON.parse(row.record) as ContainerRecord;
      this.byId.set(row.id, rec);
      this.byName.set(row.name, row.id);
    }
  }

  /** dockerd's GetContainer: full id, then exact name, then a unique id prefix. */
  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = this.byName.get(name);
    if (byName) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: ContainerRecord | undefined;
    for (const [id, rec] of this.byId) {
      if (!id.startsWith(ref)) continue;
      if (found) throw new BerthError('invalid-argument', `multiple IDs found with provided prefix: ${ref}`, { object: ref });
      found = rec;
    }
    return found;
  }

  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw notFound(`No such container: ${ref}`, ref);
    return rec;
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  nameOwner(name: string): string | undefined {
    return this.byName.get(name) ?? this.reserved.get(name);
  }

  /** Holds `name` for container `id` until the returned function is called (after its insert or failure). */
  reserveName(name: string, id: string): () => void {
    const owner = this.nameOwner(name);
    if (owner) throw nameConflict(name, owner);
    this.reserved.set(name, id);
    return () => {
      if (this.reserved.get(name) === id) this.reserved.delete(name);
    };
  }

  /** A new record; 409 with dockerd's text when the name is taken. */
  insert(rec: ContainerRecord): void {
    const owner = this.byName.get(rec.Name) ?? this.reserved.get(rec.Name);
    if (owner && owner !== rec.Id) throw nameConflict(rec.Name, owner);
    this.db
      .prepare('INSERT INTO containers (id, name, image_id, created_at, record) VALUES (?, ?, ?, ?, ?)')
      .run(rec.Id, rec.Name, rec.Image, Date.parse(rec.Created), JSON.stringify(rec));
    this.byId.set(rec.Id, rec);
    this.byName.set(rec.Name, rec.Id);
  }

  /** Writes the record through; the caller changed it in place (or passes a new object). */
  save(rec: ContainerRecord): void {
    if (!this.byId.has(rec.Id)) throw notFound(`No such container: ${rec.Id}`, rec.Id);
    this.db.prepare('UPDATE containers SET record = ? WHERE id = ?').run(JSON.stringify(rec), rec.Id);
    this.byId.set(rec.Id, rec);
  }

  rename(rec: ContainerRecord, name: string): void {
    const owner = this.nameOwner(name);
    if (owner && owner !== rec.Id) throw nameConflict(name, owner);
    const old = rec.Name;
    rec.Name = name;
    this.db.prepare('UPDATE containers SET name = ?, record = ? WHERE id = ?').run(name, JSON.stringify(rec), rec.Id);
    this.byName.delete(old);
    this.byName.set(name, rec.Id);
  }

  delete(id: string): void {
    const rec = this.byId.get(id);
    if (!rec) return;
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
    this.byId.delete(id);
    this.byName.delete(rec.Name);
  }

  /** Containers whose image is `imageId` (for rmi's conflict checks and GC roots). */
  usingImage(imageId: string): ContainerRecord[] {
    return this.all().filter((r) => r.Image === imageId);
  }
}

function nameConflict(name: string, owner: string): BerthError {
  return new BerthError(
    'already-exists',
    `Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
    { object: name },
  );
}
