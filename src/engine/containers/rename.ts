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
  engine.containers.rename(rec, name);
  engine.publish(rec, 'rename', { oldName: `/${old}` });
}
