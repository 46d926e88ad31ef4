import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageConfig } from '../../oci/image.js';
import { history, type ImageFacts, inspectImage, listItem, ZERO_TIME } from './shapes.js';

const ID = `sha256:${'e31a6ea3f263'.padEnd(64, '1')}`;
const config: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2026-11-29T08:29:30.123456789Z',
  config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], Labels: { a: 'b' } },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'9'.repeat(64)}`, `sha256:${'8'.repeat(64)}`] },
  history: [
    { created: '2026-11-29T08:29:30Z', created_by: 'ADD rootfs' },
    { created: '2026-11-29T08:29:31Z', created_by: 'CMD ["sh"]', empty_layer: true },
    { created: '2026-11-29T08:29:32Z', created_by: 'RUN x', comment: 'c' },
  ],
};
const facts = (over: Partial<ImageFacts> = {}): ImageFacts => ({
  id: ID,
  config,
  repoTags: ['bbox:latest'],
  repoDigests: [],
  layerSizes: [1000, 234],
  graphDriver: { Name: 'overlay2', Data: null },
  ...over,
});

describe('image shapes (dockerd 20.10)', () => {
  it('GET /images/json item: §A5.8 keys and values', () => {
    assert.deepEqual(listItem(facts()), {
      Containers: -1,
      Created: 1795940970,
      Id: ID,
      Labels: { a: 'b' },
      ParentId: '',
      RepoDigests: null,
      RepoTags: ['bbox:latest'],
      SharedSize: -1,
      Size: 1234,
      VirtualSize: 1234,
    });
    const none = listItem(facts({ repoTags: [], config: { ...config, config: {} } }));
    assert.deepEqual(none.RepoTags, ['<none>:<none>']);
    assert.deepEqual(none.RepoDigests, ['<none>@<none>']);
    assert.equal(none.Labels, null);
  });
  it('inspect: §A5.14 keys in order, Config with every Go field, zero LastTagTime', () => {
    const i = inspectImage(facts());
    assert.deepEqual(Object.keys(i), [
      'Id',
      'RepoTags',
      'RepoDigests',
      'Parent',
      'Comment',
      'Created',
      'Container',
      'ContainerConfig',
      'DockerVersion',
      'Author',
      'Config',
      'Architecture',
      'Os',
      'Size',
      'VirtualSize',
      'GraphDriver',
      'RootFS',
      'Metadata',
    ]);
    assert.equal(i.Created, config.created);
    assert.deepEqual(i.RootFS, { Type: 'layers', Layers: config.rootfs.diff_ids });
    assert.deepEqual(i.Metadata, { LastTagTime: ZERO_TIME });
    const c = i.Config as Record<string, unknown>;
    assert.deepEqual(c.Cmd, ['/bin/sh']);
    assert.equal(c.Entrypoint, null);
    assert.equal(c.WorkingDir, '');
    assert.equal(c.Tty, false);
    assert.deepEqual(i.RepoDigests, [], 'inspect gives [] where the list gives null');
    const t = new Date('2026-12-01T00:00:00Z');
    assert.deepEqual(inspectImage(facts({ lastTagTime: t })).Metadata, { LastTagTime: '2026-12-01T00:00:00.000Z' });
  });
  it('history: newest first, sizes on non-empty layers, the ID and tags on top only', () => {
    const h = history(facts());
    assert.deepEqual(
      h.map((e) => [e.Id, e.CreatedBy, e.Size, e.Tags]),
      [
        [ID, 'RUN x', 234, ['bbox:latest']],
        ['<missing>', 'CMD ["sh"]', 0, null],
        ['<missing>', 'ADD rootfs', 1000, null],
      ],
    );
    assert.equal(h[0]!.Created, 1795940972);
  });
});
