/** `POST /containers/{id}/rename?name=`: dockerd's checks and its `rename` event. */
import { BerthError } from '../../common/errors.js';
import type { Engine } from '../engine.js';
import { validateName } from './names.js';

export function renameContainer(engine: Engine, ref: string, newName: string): void {
  if (!newName) throw new BerthError('invalid-argument', 'Neither old nor new names may be empty', { object: 'name' });
  const rec = engine.containers.get(ref);
  const name = validateName(newName);
  const old = rec.Name;
  if (old === name)
    throw new BerthError('invalid-argument', 'Renaming a container with the same name as its current name', { object: name });
  try {
    engine.containers.rename(rec, name);
  } catch (err) {
    // dockerd's ContainerRename wraps the reservation error
    if (err instanceof BerthError && err.kind === 'already-exists')
      throw new BerthError(err.kind, `Error when allocating new name: ${err.message}`, { object: name, cause: err });
    throw err;
  }
  engine.publish(rec, 'rename', { oldName: `/${old}` });
}
