import t from 'tap';
import { RLIMITS, rlimValue } from './rlimits';
import { RLIM_INFINITY } from '../sys/process';

t.test('rlimit numbers match the kernel', async (t) => {
  t.equal(RLIMITS.RLIMIT_NOFILE, 7);
  t.equal(RLIMITS.RLIMIT_NPROC, 6);
  t.equal(RLIMITS.RLIMIT_RTTIME, 15);
  t.equal(Object.keys(RLIMITS).length, 16);
});

t.test('JSON values: RLIM_INFINITY survives float rounding', async (t) => {
  t.equal(rlimValue(1024), 1024n);
  t.equal(rlimValue(0), 0n);
  t.equal(rlimValue(JSON.parse('18446744073709551615')), RLIM_INFINITY, '2^64-1 parses as 2^64');
  t.equal(rlimValue(2 ** 63), 2n ** 63n, 'large finite values stay finite');
});
// Applying rlimits to a real process is tested in process.test.ts (child process, /proc/self/limits).
