/**
 * The volume endpoints of the Engine API, as dockerd 20.10 answers them:
 * `GET /volumes`, `POST /volumes/create` (201), `GET /volumes/{name}`, `DELETE /volumes/{name}`
 * (204), `POST /volumes/prune`. The store publishes the create/destroy events itself (it is
 * opened with the engine's bus), so `events` is not used here.
 */
import { BerthError } from '../../common/errors.js';
import type { EventBus } from '../../engine/events.js';
import { listFilter, pruneFilter, toApiVolume } from '../../engine/volumes/shapes.js';
import type { VolumeStore } from '../../engine/volumes/store.js';
import type { ApiRequest, Route } from '../types.js';

export interface VolumeRouteDeps {
  volumes: VolumeStore;
  events?: EventBus;
  /** The containers (ids) that refer to volume `name`, whatever their state. */
  volumeUsers(name: string): string[];
}

interface CreateBody {
  Name?: unknown;
  Driver?: unknown;
  DriverOpts?: unknown;
  Labels?: unknown;
}

const badBody = (message: string) => new BerthError('invalid-argument', message, { object: 'body' });

function optionalString(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string')
    throw badBody(`json: cannot unmarshal ${typeof v} into Go struct field VolumeCreateBody.${field} of type string`);
  return v;
}

function optionalMap(v: unknown, field: string): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw badBody(
      `json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field VolumeCreateBody.${field} of type map[string]string`,
    );
  return v as Record<string, string>;
}

export function volumeRoutes(deps: VolumeRouteDeps): Route[] {
  const { volumes } = deps;
  const users = (name: string) => volumes.users(name, deps.volumeUsers(name));
  return [
    {
      method: 'GET',
      path: '/volumes',
      handler(req, res) {
        const keep = listFilter(req.filters(), users);
        res.json({ Volumes: volumes.list().filter(keep).map(toApiVolume), Warnings: [] });
      },
    },
    {
      method: 'POST',
      path: '/volumes/create',
      async handler(req: ApiRequest, res) {
        const body = await req.json<CreateBody | null>();
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          throw badBody('json: cannot unmarshal into Go value of type volume.VolumeCreateBody');
        const { volume } = volumes.create({
          name: optionalString(body.Name, 'Name'),
          driver: optionalString(body.Driver, 'Driver'),
          options: optionalMap(body.DriverOpts, 'DriverOpts'),
          labels: optionalMap(body.Labels, 'Labels'),
        });
        res.json(toApiVolume(volume), 201);
      },
    },
    {
      method: 'GET',
      path: '/volumes/{name}',
      handler(req, res) {
        res.json(toApiVolume(volumes.get(req.params.name!)));
      },
    },
    {
      method: 'DELETE',
      path: '/volumes/{name}',
      async handler(req, res) {
        const name = req.params.name!;
        await volumes.remove(name, { force: req.bool('force'), users: deps.volumeUsers(name) });
        res.empty(204);
      },
    },
    {
      method: 'POST',
      path: '/volumes/prune',
      async handler(req, res) {
        const match = pruneFilter(req.filters(), req.version);
        const { deleted, reclaimed } = await volumes.prune(match, deps.volumeUsers);
        res.json({ VolumesDeleted: deleted, SpaceReclaimed: reclaimed });
      },
    },
  ];
}
