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
});
