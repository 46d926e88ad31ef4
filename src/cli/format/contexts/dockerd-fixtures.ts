/**
 * Observed with Debian's dockerd 20.10 and the v28 docker CLI (test/helpers/dockerd.ts): the
 * Engine's JSON and what `docker ps`, `images`, `volume ls`, `history`, `stats` printed for it
 * (TZ=UTC). The containers: alpha (created, labels a=1 b=2, volume vol1), beta (running
 * `sleep 300`), gamma (exited 3).
 */
export const apiPs = [
  {
    Id: '4686e240f8c48e67bb8d7f7fc2c1e7142d364701cf3bceaffaca9896309da097',
    Names: ['/gamma'],
    Image: 'busybox',
    ImageID: 'sha256:07b649aceb3267a1ef9ea2a762da6d25e82f290a01ca9eda599f0901d91b72fd',
    Command: "sh -c 'exit 3'",
    Created: 1796549307,
    Ports: [],
    SizeRootFs: 2862718,
    Labels: {},
    State: 'exited',
    Status: 'Exited (3) 2 seconds ago',
    HostConfig: {
      NetworkMode: 'none',
    },
    Mounts: [],
    NetworkSettings: {
      Networks: {
        none: {},
      },
    },
  },
  {
    Id: '55f509e488393862325ac56017d3d5c9bc5a4bb5ced8fb4cb4ec20526ef44b6d',
    Names: ['/beta'],
    Image: 'busybox',
    ImageID: 'sha256:07b649aceb3267a1ef9ea2a762da6d25e82f290a01ca9eda599f0901d91b72fd',
    Command: 'sleep 300',
    Created: 1796549306,
    Ports: [],
    SizeRootFs: 2862718,
    Labels: {},
    State: 'running',
    Status: 'Up 3 seconds',
    HostConfig: {
      NetworkMode: 'none',
    },
    Mounts: [],
    NetworkSettings: {
      Networks: {
        none: {},
      },
    },
  },
  {
    Id: '3cf7d2e5405f8979a88d307a3ef4a820c61fec1bbcf1783e2b3c8245e41aec69',
    Names: ['/alpha'],
    Image: 'busybox',
    ImageID: 'sha256:07b649aceb3267a1ef9ea2a762da6d25e82f290a01ca9eda599f0901d91b72fd',
    Command: "sh -c 'echo a very long command line here'",
    Created: 1796549306,
    Ports: [],
    SizeRootFs: 2862718,
    Labels: {
      a: '1',
      b: '2',
    },
    State: 'created',
    Status: 'Created',
    HostConfig: {
      NetworkMode: 'none',
    },
    Mounts: [
      {
        Type: 'volume',
        Name: 'vol1',
        Source: '/tmp/berth-ref-dockerd-0odCLg/data/volumes/vol1/_data',
        Destination: '/data',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
    ],
    NetworkSettings: {
      Networks: {
        none: {},
      },
    },
  },
];

export const apiImages = [
  {
    Containers: -1,
    Created: 1796549306,
    Id: 'sha256:07b649aceb3267a1ef9ea2a762da6d25e82f290a01ca9eda599f0901d91b72fd',
    Labels: null,
    ParentId: '',
    RepoDigests: null,
    RepoTags: ['busybox:latest', 'example.com/team/app:1.0'],
    SharedSize: -1,
    Size: 2862718,
    VirtualSize: 2862718,
  },
];

export const apiVolumes = [
  {
    CreatedAt: '2026-12-06T09:28:26Z',
    Driver: 'local',
    Labels: null,
    Mountpoint: '/tmp/berth-ref-dockerd-0odCLg/data/volumes/vol1/_data',
    Name: 'vol1',
    Options: null,
    Scope: 'local',
  },
  {
    CreatedAt: '2026-12-06T09:28:28Z',
    Driver: 'local',
    Labels: {
      x: 'y',
    },
    Mountpoint: '/tmp/berth-ref-dockerd-0odCLg/data/volumes/vol2/_data',
    Name: 'vol2',
    Options: null,
    Scope: 'local',
  },
];

export const apiHistory = [
  {
    Comment: 'Imported from -',
    Created: 1796549306,
    CreatedBy: '',
    Id: 'sha256:07b649aceb3267a1ef9ea2a762da6d25e82f290a01ca9eda599f0901d91b72fd',
    Size: 2862718,
    Tags: ['busybox:latest', 'example.com/team/app:1.0'],
  },
];

export const observed: Record<string, string> = {
  ps: 'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS                              PORTS     NAMES\n4686e240f8c4   busybox   "sh -c \'exit 3\'"         1 second ago    Exited (3) Less than a second ago             gamma\n55f509e48839   busybox   "sleep 300"              2 seconds ago   Up Less than a second                         beta\n3cf7d2e5405f   busybox   "sh -c \'echo a very …"   2 seconds ago   Created                                       alpha\n',
  ps_notrunc:
    'CONTAINER ID                                                       IMAGE     COMMAND                                        CREATED         STATUS                              PORTS     NAMES\n4686e240f8c48e67bb8d7f7fc2c1e7142d364701cf3bceaffaca9896309da097   busybox   "sh -c \'exit 3\'"                               1 second ago    Exited (3) Less than a second ago             gamma\n55f509e488393862325ac56017d3d5c9bc5a4bb5ced8fb4cb4ec20526ef44b6d   busybox   "sleep 300"                                    2 seconds ago   Up 1 second                                   beta\n3cf7d2e5405f8979a88d307a3ef4a820c61fec1bbcf1783e2b3c8245e41aec69   busybox   "sh -c \'echo a very long command line here\'"   2 seconds ago   Created                                       alpha\n',
  ps_json:
    '{"Command":"\\"sh -c \'exit 3\'\\"","CreatedAt":"2026-12-06 09:28:27 +0000 UTC","ID":"4686e240f8c4","Image":"busybox","Labels":"","LocalVolumes":"0","Mounts":"","Names":"gamma","Networks":"none","Platform":null,"Ports":"","RunningFor":"1 second ago","Size":"0B","State":"exited","Status":"Exited (3) Less than a second ago"}\n{"Command":"\\"sleep 300\\"","CreatedAt":"2026-12-06 09:28:26 +0000 UTC","ID":"55f509e48839","Image":"busybox","Labels":"","LocalVolumes":"0","Mounts":"","Names":"beta","Networks":"none","Platform":null,"Ports":"","RunningFor":"2 seconds ago","Size":"0B","State":"running","Status":"Up 1 second"}\n{"Command":"\\"sh -c \'echo a very …\\"","CreatedAt":"2026-12-06 09:28:26 +0000 UTC","ID":"3cf7d2e5405f","Image":"busybox","Labels":"a=1,b=2","LocalVolumes":"1","Mounts":"vol1","Names":"alpha","Networks":"none","Platform":null,"Ports":"","RunningFor":"2 seconds ago","Size":"0B","State":"created","Status":"Created"}\n',
  ps_size:
    'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS                              PORTS     NAMES     SIZE\n4686e240f8c4   busybox   "sh -c \'exit 3\'"         2 seconds ago   Exited (3) Less than a second ago             gamma     0B (virtual 2.86MB)\n55f509e48839   busybox   "sleep 300"              3 seconds ago   Up 1 second                                   beta      0B (virtual 2.86MB)\n3cf7d2e5405f   busybox   "sh -c \'echo a very …"   3 seconds ago   Created                                       alpha     0B (virtual 2.86MB)\n',
  ps_custom:
    'NAMES     LABELS    a         MOUNTS    STATE\ngamma                                   exited\nbeta                                    running\nalpha     a=1,b=2   1         vol1      created\n',
  ps_raw:
    'container_id: 4686e240f8c4\nimage: busybox\ncommand: "sh -c \'exit 3\'"\ncreated_at: 2026-12-06 09:28:27 +0000 UTC\nstate: exited\nstatus: Exited (3) Less than a second ago\nnames: gamma\nlabels:\nports:\n\ncontainer_id: 55f509e48839\nimage: busybox\ncommand: "sleep 300"\ncreated_at: 2026-12-06 09:28:26 +0000 UTC\nstate: running\nstatus: Up 1 second\nnames: beta\nlabels:\nports:\n\ncontainer_id: 3cf7d2e5405f\nimage: busybox\ncommand: "sh -c \'echo a very …"\ncreated_at: 2026-12-06 09:28:26 +0000 UTC\nstate: created\nstatus: Created\nnames: alpha\nlabels: a=1,b=2\nports:\n\n',
  ps_q: '4686e240f8c4\n55f509e48839\n3cf7d2e5405f\n',
  images:
    'REPOSITORY             TAG       IMAGE ID       CREATED         SIZE\nbusybox                latest    07b649aceb32   3 seconds ago   2.86MB\nexample.com/team/app   1.0       07b649aceb32   3 seconds ago   2.86MB\n',
  images_digests:
    'REPOSITORY             TAG       DIGEST    IMAGE ID       CREATED         SIZE\nbusybox                latest    <none>    07b649aceb32   3 seconds ago   2.86MB\nexample.com/team/app   1.0       <none>    07b649aceb32   3 seconds ago   2.86MB\n',
  images_json:
    '{"Containers":"N/A","CreatedAt":"2026-12-06 09:28:26 +0000 UTC","CreatedSince":"3 seconds ago","Digest":"\\u003cnone\\u003e","ID":"07b649aceb32","Repository":"busybox","SharedSize":"N/A","Size":"2.86MB","Tag":"latest","UniqueSize":"N/A","VirtualSize":"2.863MB"}\n{"Containers":"N/A","CreatedAt":"2026-12-06 09:28:26 +0000 UTC","CreatedSince":"3 seconds ago","Digest":"\\u003cnone\\u003e","ID":"07b649aceb32","Repository":"example.com/team/app","SharedSize":"N/A","Size":"2.86MB","Tag":"1.0","UniqueSize":"N/A","VirtualSize":"2.863MB"}\n',
  images_custom:
    'REPOSITORY:TAG             CONTAINERS   SIZE      CREATED AT\nbusybox:latest             N/A          2.863MB   2026-12-06 09:28:26 +0000 UTC\nexample.com/team/app:1.0   N/A          2.863MB   2026-12-06 09:28:26 +0000 UTC\n',
  volumes: 'DRIVER    VOLUME NAME\nlocal     vol1\nlocal     vol2\n',
  volumes_json:
    '{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"","Links":"N/A","Mountpoint":"/tmp/berth-ref-dockerd-0odCLg/data/volumes/vol1/_data","Name":"vol1","Scope":"local","Size":"N/A","Status":"N/A"}\n{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"x=y","Links":"N/A","Mountpoint":"/tmp/berth-ref-dockerd-0odCLg/data/volumes/vol2/_data","Name":"vol2","Scope":"local","Size":"N/A","Status":"N/A"}\n',
  history:
    'IMAGE          CREATED         CREATED BY   SIZE      COMMENT\n07b649aceb32   3 seconds ago                2.86MB    Imported from -\n',
  history_nohuman:
    'IMAGE                                                                     CREATED AT             CREATED BY   SIZE      COMMENT\nsha256:07b649aceb3267a1ef9ea2a762da6d25e82f290a01ca9eda599f0901d91b72fd   2026-12-06T09:28:26Z                2862718   Imported from -\n',
  history_json:
    '{"Comment":"Imported from -","CreatedAt":"2026-12-06T09:28:26Z","CreatedBy":"","CreatedSince":"3 seconds ago","ID":"07b649aceb32","Size":"2.86MB"}\n',
  stats:
    'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n4686e240f8c4   gamma     0.00%     0B / 0B             0.00%     0B / 0B   0B / 0B     0\n55f509e48839   beta      0.00%     304KiB / 23.54GiB   0.00%     0B / 0B   0B / 0B     1\n3cf7d2e5405f   alpha     0.00%     0B / 0B             0.00%     0B / 0B   0B / 0B     0\n',
  inspect_f:
    'created 0 map[a:1 b:2] ["sh","-c","echo a very long command line here"] [] <no value>\nrunning 5552 map[] ["sleep","300"] [] <no value>\n',
};

/** GET /system/df from that dockerd (another run: writer wrote 300 kB and 20 kB into vol1; runner runs). */
export const apiDf = {
  LayersSize: 2862718,
  Images: [
    {
      Containers: 2,
      Created: 1796550103,
      Id: 'sha256:efea7f6296fc6b67823855d56e08950bb3ad4206453558ac784f8ed6b6057f31',
      Labels: null,
      ParentId: '',
      RepoDigests: null,
      RepoTags: ['busybox:latest'],
      SharedSize: 0,
      Size: 2862718,
      VirtualSize: 2862718,
    },
  ],
  Containers: [
    {
      Id: 'b28ad962e7ef9edd834d4bc6ce1642934762a588451f338ae1bb99180602dd88',
      Names: ['/runner'],
      Image: 'busybox',
      ImageID: 'sha256:efea7f6296fc6b67823855d56e08950bb3ad4206453558ac784f8ed6b6057f31',
      Command: 'sleep 300',
      Created: 1796550104,
      Ports: [],
      SizeRootFs: 2862718,
      Labels: {},
      State: 'running',
      Status: 'Up Less than a second',
      HostConfig: {
        NetworkMode: 'none',
      },
      NetworkSettings: {
        Networks: {
          none: {},
        },
      },
      Mounts: [],
    },
    {
      Id: '5e21acb3517656ffbce72cc758525d4b6ecfbebbfab190a7e4a287dd56a46ef0',
      Names: ['/writer'],
      Image: 'busybox',
      ImageID: 'sha256:efea7f6296fc6b67823855d56e08950bb3ad4206453558ac784f8ed6b6057f31',
      Command: "sh -c 'dd if=/dev/zero of=/big bs=1k count=300 2>/dev/null; dd if=/dev/zero of=/data/f bs=1k count=20 2>/dev/null'",
      Created: 1796550103,
      Ports: [],
      SizeRw: 307200,
      SizeRootFs: 3169918,
      Labels: {},
      State: 'exited',
      Status: 'Exited (0) 1 second ago',
      HostConfig: {
        NetworkMode: 'none',
      },
      NetworkSettings: {
        Networks: {
          none: {},
        },
      },
      Mounts: [
        {
          Type: 'volume',
          Name: 'vol1',
          Source: '/tmp/berth-ref-dockerd-ziNXoL/data/volumes/vol1/_data',
          Destination: '/data',
          Driver: 'local',
          Mode: 'z',
          RW: true,
          Propagation: '',
        },
      ],
    },
  ],
  Volumes: [
    {
      CreatedAt: '2026-12-06T09:41:44Z',
      Driver: 'local',
      Labels: null,
      Mountpoint: '/tmp/berth-ref-dockerd-ziNXoL/data/volumes/vol1/_data',
      Name: 'vol1',
      Options: null,
      Scope: 'local',
      UsageData: {
        RefCount: 1,
        Size: 20480,
      },
    },
    {
      CreatedAt: '2026-12-06T09:41:45Z',
      Driver: 'local',
      Labels: null,
      Mountpoint: '/tmp/berth-ref-dockerd-ziNXoL/data/volumes/vol2/_data',
      Name: 'vol2',
      Options: null,
      Scope: 'local',
      UsageData: {
        RefCount: 0,
        Size: 0,
      },
    },
  ],
  BuildCache: null,
  BuilderSize: 0,
};

export const observedDf: Record<string, string> = {
  df: 'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\nImages          1         1         2.863MB   0B (0%)\nContainers      2         1         307.2kB   307.2kB (100%)\nLocal Volumes   2         1         20.48kB   0B (0%)\nBuild Cache     0         0         0B        0B\n',
  df_v: 'Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED         SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS\nbusybox      latest    efea7f6296fc   2 seconds ago   2.86MB    0B            2.863MB       2\n\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND                  LOCAL VOLUMES   SIZE      CREATED         STATUS                    NAMES\nb28ad962e7ef   busybox   "sleep 300"              0               0B        1 second ago    Up Less than a second     runner\n5e21acb35176   busybox   "sh -c \'dd if=/dev/z…"   1               307kB     2 seconds ago   Exited (0) 1 second ago   writer\n\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\nvol1          1         20.48kB\nvol2          0         0B\n\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n',
  df_json:
    '{"Active":"1","Reclaimable":"0B (0%)","Size":"2.863MB","TotalCount":"1","Type":"Images"}\n{"Active":"1","Reclaimable":"307.2kB (100%)","Size":"307.2kB","TotalCount":"2","Type":"Containers"}\n{"Active":"1","Reclaimable":"0B (0%)","Size":"20.48kB","TotalCount":"2","Type":"Local Volumes"}\n{"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Build Cache"}\n',
  df_custom: 'Images: 0B (0%)\nContainers: 307.2kB (100%)\nLocal Volumes: 0B (0%)\nBuild Cache: 0B\n',
};
