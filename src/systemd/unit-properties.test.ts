import t from 'tap';
import { deviceProperties, rangeToBits, resourceProperties, scopeProperties } from './unit-properties';

/** name → value, the D-Bus type left out. */
const values = (props: [string, [unknown, unknown]][]) => Object.fromEntries(props.map(([n, [, v]]) => [n, v]));

t.test("runc's base properties for a scope", async (t) => {
  t.same(values(scopeProperties('libcontainer container x', 'system.slice', [42])), {
    Description: 'libcontainer container x',
    Slice: 'system.slice',
    Delegate: true,
    PIDs: [42],
    MemoryAccounting: true,
    CPUAccounting: true,
    IOAccounting: true,
    TasksAccounting: true,
    DefaultDependencies: false,
  });
});

t.test('v2 files become the properties systemd knows', async (t) => {
  const w = (file: string, value: string) => ({ file, value });
  const MAX = 0xffffffffffffffffn;
  t.same(
    values(
      resourceProperties(
        [
          w('memory.max', '67108864'),
          w('memory.low', '1024'),
          w('memory.swap.max', 'max'),
          w('cpu.weight', '20'),
          w('cpu.max', '50000 100000'),
          w('pids.max', '20'),
          w('cpuset.cpus', '0-1,3'),
          w('io.weight', 'default 100'),
          w('memory.oom.group', '1'),
          w('cgroup.freeze', '0'),
        ],
        252,
      ),
    ),
    {
      MemoryMax: 67108864n,
      MemoryLow: 1024n,
      MemorySwapMax: MAX,
      CPUWeight: 20n,
      CPUQuotaPeriodUSec: 100000n,
      CPUQuotaPerSecUSec: 500000n,
      TasksMax: 20n,
      AllowedCPUs: [0b1011],
    },
    'files without a property (io.weight lines, oom.group before 253, freeze) are left to the files',
  );
  t.same(values(resourceProperties([w('pids.max', '0')], 252)), { TasksMax: 1n }, 'systemd refuses TasksMax=0');
  t.same(
    values(resourceProperties([w('cpu.max', 'max 100000')], 241)),
    { CPUQuotaPerSecUSec: MAX },
    'no period before 242',
  );
  t.same(
    values(resourceProperties([w('cpu.max', '1234 100000')], 252)).CPUQuotaPerSecUSec,
    20000n,
    'rounded up to 10 ms',
  );
  t.same(
    values(resourceProperties([w('cpu.weight', '50'), w('cpu.idle', '1')], 252)),
    { CPUWeight: 0n },
    'idle wins over a weight',
  );
  t.same(values(resourceProperties([w('memory.oom.group', '1')], 253)), { OOMPolicy: 'kill' });
  t.same(values(resourceProperties([w('cpuset.cpus', '0')], 243)), {}, 'AllowedCPUs from 244');
});

t.test("on a v1 or hybrid host: BlockIOAccounting, as runc's legacy driver", async (t) => {
  const v = values(scopeProperties('libcontainer container x', 'system.slice', [42], true));
  t.equal(v.BlockIOAccounting, true);
  t.notOk('IOAccounting' in v, 'no IOAccounting (a v2 property)');
  t.equal(v.Delegate, true);
  t.same(v.PIDs, [42]);
});

t.test('v1 files become the v1 properties (genV1ResourcesProperties)', async (t) => {
  const w = (file: string, value: string) => ({ file, value });
  const MAX = 0xffffffffffffffffn;
  t.same(
    values(
      resourceProperties(
        [
          w('memory.limit_in_bytes', '67108864'),
          w('memory.memsw.limit_in_bytes', '134217728'),
          w('memory.soft_limit_in_bytes', '1024'),
          w('cpu.shares', '512'),
          w('cpu.cfs_period_us', '50000'),
          w('cpu.cfs_quota_us', '25000'),
          w('pids.max', '20'),
          w('cpuset.cpus', '0-1'),
          w('cpuset.mems', '0'),
          w('blkio.weight', '300'),
          w('freezer.state', 'THAWED'),
        ],
        252,
        true,
      ),
    ),
    {
      MemoryLimit: 67108864n,
      CPUShares: 512n,
      TasksMax: 20n,
      AllowedCPUs: [0b11],
      AllowedMemoryNodes: [1],
      BlockIOWeight: 300n,
      CPUQuotaPeriodUSec: 50000n,
      CPUQuotaPerSecUSec: 500000n,
    },
    'memsw, soft limit and freezer have no property: left to the files',
  );
  const legacy = (...ws: { file: string; value: string }[]) => values(resourceProperties(ws, 252, true));
  t.same(legacy(w('memory.limit_in_bytes', '-1'), w('pids.max', 'max')), { MemoryLimit: MAX, TasksMax: MAX }, '-1');
  t.same(legacy(w('pids.max', '0')), { TasksMax: 1n }, 'systemd refuses TasksMax=0');
  t.same(legacy(w('cpu.cfs_quota_us', '1234')), { CPUQuotaPerSecUSec: 20000n }, 'a quota alone: 100 ms, no period');
  t.same(legacy(w('cpu.cfs_quota_us', '-1')), { CPUQuotaPerSecUSec: MAX }, 'no quota: infinity');
  t.same(
    legacy(w('cpu.cfs_period_us', '20000')),
    { CPUQuotaPeriodUSec: 20000n, CPUQuotaPerSecUSec: MAX },
    'a period alone',
  );
  t.same(
    values(resourceProperties([w('cpu.cfs_period_us', '20000'), w('cpu.cfs_quota_us', '10000')], 241, true)),
    { CPUQuotaPerSecUSec: 500000n },
    'no period property before 242',
  );
  t.same(legacy(w('blkio.bfq.weight', '100'), w('blkio.weight_device', '8:0 100')), { BlockIOWeight: 100n });
  t.same(
    legacy(w('memory.max', '1'), w('cpu.weight', '5'), w('cpu.max', '1 100000'), w('io.weight', '5')),
    {},
    'v2 files mean nothing there',
  );
  t.same(
    values(resourceProperties([w('memory.limit_in_bytes', '1'), w('cpu.shares', '5')], 252)),
    {},
    'nor v1 files on v2',
  );
});

t.test('cpu lists as bitmasks', async (t) => {
  t.same(rangeToBits('0'), [1]);
  t.same(rangeToBits('8-9'), [0, 3]);
  t.same(rangeToBits('0,2,4-5'), [0b110101]);
  t.throws(() => rangeToBits('3-1'));
});

t.test('device rules as DevicePolicy and DeviceAllow', async (t) => {
  const ex = (type: 'b' | 'c', major: number, minor: number, access = 'rwm') => ({ type, major, minor, access });
  t.same(
    values(
      deviceProperties(
        {
          defaultAllow: false,
          exceptions: [ex('c', 1, 3), ex('c', 136, -1, 'rw'), ex('b', -1, -1, 'm'), ex('c', -1, 5), ex('b', 8, 0, 'r')],
        },
        252,
      ),
    ),
    {
      DevicePolicy: 'strict',
      DeviceAllow: [
        ['/dev/char/1:3', 'rwm'],
        ['char-136', 'rw'],
        ['block-*', 'm'],
        ['/dev/block/8:0', 'r'],
      ],
    },
    'an allow-list: strict, "*:N" left to the cgroup filter',
  );
  t.same(values(deviceProperties({ defaultAllow: true, exceptions: [] }, 252)), {
    DeviceAllow: [],
    DevicePolicy: 'auto',
  });
  t.same(deviceProperties({ defaultAllow: true, exceptions: [ex('c', 1, 3)] }, 252), [], 'a deny-list: nothing');
  t.same(values(deviceProperties({ defaultAllow: false, exceptions: [ex('c', 4, -1)] }, 239)).DeviceAllow, []);
  t.same(
    values(deviceProperties({ defaultAllow: true, exceptions: [ex('c', 1, 3)] }, 252, true)),
    { DeviceAllow: [], DevicePolicy: 'strict' },
    'a deny-list on v1: deny everything, as runc (one devices.list: "auto" would be allow-all)',
  );
  t.same(
    values(deviceProperties({ defaultAllow: false, exceptions: [ex('c', 1, 3)] }, 252, true)),
    values(deviceProperties({ defaultAllow: false, exceptions: [ex('c', 1, 3)] }, 252)),
    'an allow-list: the same on v1',
  );
  t.same(values(deviceProperties({ defaultAllow: true, exceptions: [] }, 252, true)).DevicePolicy, 'auto');
});
