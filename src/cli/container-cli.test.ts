// The parsing parts of the cgroup commands, without containers: runc's size
// and duration syntax, update's "zero means unchanged", ps's argv and output.
import t from 'tap';
import { normalizeUpdate } from '../runtime/update';
import { parseRamSize, resourcesFromFlags } from './update-flags';
import { eventLine, parseDuration } from '../runtime/events';
import { filterPsOutput, splitPsArgv } from './ps';

t.test('sizes as docker/go-units RAMInBytes reads them', async (t) => {
  t.equal(parseRamSize('512'), 512);
  t.equal(parseRamSize('100m'), 100 * 1024 * 1024);
  t.equal(parseRamSize('100MB'), 100 * 1024 * 1024);
  t.equal(parseRamSize('1.5g'), 1.5 * 1024 ** 3);
  t.equal(parseRamSize('64KiB'), 64 * 1024);
  t.equal(parseRamSize('2 k'), 2048);
  t.equal(parseRamSize('-1'), -1);
  for (const bad of ['', 'abc', '1x', '-2', '1.2.3m', 'm']) t.throws(() => parseRamSize(bad), /invalid size/, bad);
});

t.test("durations as Go's time.ParseDuration reads them", async (t) => {
  t.equal(parseDuration('5s'), 5000);
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('1m30s'), 90000);
  t.equal(parseDuration('1.5h'), 5400000);
  t.equal(parseDuration('0'), 0);
  t.equal(parseDuration('-1s'), -1000);
  for (const bad of ['5', 's', '1sec', '']) t.throws(() => parseDuration(bad), /invalid value/, bad);
});

t.test('event lines', async (t) => {
  t.equal(eventLine('oom', 'c1'), '{"type":"oom","id":"c1"}\n');
  t.equal(
    eventLine('stats', 'c1', { n: 2n ** 64n - 1n }),
    '{"type":"stats","id":"c1","data":{"n":18446744073709551615}}\n',
  );
});

t.test('update flags: only what is given, with runc names and errors', async (t) => {
  t.same(resourcesFromFlags({}), {});
  t.same(
    resourcesFromFlags({
      memory: '64m',
      memorySwap: '-1',
      pidsLimit: '10',
      cpuShare: '512',
      cpusetCpus: '0-1',
      blkioWeight: '300',
    }),
    {
      memory: { limit: 64 * 1024 * 1024, swap: -1 },
      cpu: { cpus: '0-1', shares: 512 },
      pids: { limit: 10 },
      blockIO: { weight: 300 },
    },
  );
  t.throws(() => resourcesFromFlags({ cpuPeriod: '-5' }), /invalid value for cpu-period/);
  t.throws(() => resourcesFromFlags({ memory: 'lots' }), /invalid value for memory: invalid size: 'lots'/);
});

t.test(
  'normalizeUpdate: 0 is unchanged (not for pids), quota/period keep their partner, kernel memory, devices dropped',
  async (t) => {
    const prev = { memory: { limit: 100 }, cpu: { quota: 5000, period: 100000 } };
    t.same(
      normalizeUpdate(
        {
          memory: { limit: 0, swap: 0, reservation: 0 },
          cpu: { shares: 0, cpus: '' },
          pids: {},
          blockIO: { weight: 0 },
        },
        prev,
      ),
      {},
    );
    // runtime-spec 1.3 and runc 1.4: 0 is a real pids limit, -1 is "max".
    t.same(normalizeUpdate({ pids: { limit: 0 } }, prev), { pids: { limit: 0 } });
    t.same(normalizeUpdate({ pids: { limit: -1 } }, prev), { pids: { limit: -1 } });
    t.same(normalizeUpdate({ cpu: { quota: 20000 } }, prev), { cpu: { quota: 20000, period: 100000 } });
    t.same(normalizeUpdate({ cpu: { period: 50000 } }, prev), { cpu: { period: 50000, quota: 5000 } });
    t.same(
      normalizeUpdate({ cpu: { idle: 0 } }, { cpu: { shares: 1024, idle: 1 } }),
      { cpu: { idle: 0, shares: 1024 } },
      'leaving idle writes the shares in force again (the kernel resets the weight)',
    );
    t.same(normalizeUpdate({ cpu: { idle: 1 } }, { cpu: { shares: 1024 } }), { cpu: { idle: 1 } });
    t.same(
      normalizeUpdate({ memory: { swap: 200 } }, prev),
      { memory: { swap: 200, limit: 100 } },
      'swap is checked against the limit in force',
    );
    t.same(
      normalizeUpdate({ memory: { kernel: 5, limit: 50 }, devices: [{ allow: true, access: 'rwm' }] }, undefined),
      { memory: { limit: 50 } },
    );
    t.same(
      normalizeUpdate({ unified: { 'pids.max': '5' } }, undefined),
      { unified: { 'pids.max': '5' } },
      'other keys pass through',
    );
  },
);

t.test('ps: arguments after the id go to ps; rows filtered by the PID column', async (t) => {
  t.same(splitPsArgv(['ps', 'c1']), []);
  t.same(splitPsArgv(['--root', '/r', 'ps', 'c1', '-ef']), ['-ef']);
  t.same(splitPsArgv(['ps', '-f', 'table', 'c1', '-o', 'pid,comm']), ['-o', 'pid,comm']);
  t.same(splitPsArgv(['ps', '--format=json', 'c1', 'aux']), ['aux']);
  t.same(splitPsArgv(['--root', 'ps', 'ps', 'c1', 'x']), ['x'], 'a --root value named ps is not the command');
  const text = 'UID   PID  PPID CMD\nroot    1     0 init\nroot   42     1 sh\nroot   43    42 sleep\n\n';
  t.equal(filterPsOutput(text, [42, 43]), 'UID   PID  PPID CMD\nroot   42     1 sh\nroot   43    42 sleep\n');
  t.equal(filterPsOutput('  PID COMMAND\n    7 x\n', []), '  PID COMMAND\n');
  t.throws(() => filterPsOutput('USER COMMAND\nroot x\n', [1]), /couldn't find PID field/);
});
