import t from 'tap';
import { readFileSync } from 'node:fs';
import { CAPS, capMask, capNames, lastCap, supportedMask } from './capabilities';

t.test('the table matches the kernel header numbering', async (t) => {
  t.equal(CAPS.CAP_CHOWN, 0);
  t.equal(CAPS.CAP_SYS_ADMIN, 21);
  t.equal(CAPS.CAP_AUDIT_READ, 37);
  t.equal(CAPS.CAP_CHECKPOINT_RESTORE, 40);
  const numbers = Object.values(CAPS).sort((a, b) => a - b);
  t.same(numbers, [...Array(41).keys()], 'every number 0..40 exactly once');
});

t.test('lastCap comes from the kernel', async (t) => {
  t.equal(lastCap(), parseInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'), 10));
  t.equal(supportedMask(), (1n << BigInt(lastCap() + 1)) - 1n);
});

t.test('capMask and capNames', async (t) => {
  t.equal(capMask(undefined), 0n, 'no list: empty set');
  t.equal(capMask([]), 0n);
  t.equal(capMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_CHOWN']), (1n << 0n) | (1n << 5n), 'duplicates are harmless');
  t.equal(capMask(['CAP_BPF']), 1n << 39n, 'above 32 bits');
  t.same(capNames((1n << 0n) | (1n << 39n)), ['CAP_CHOWN', 'CAP_BPF']);
  // Issue 18: unknown names are ignored (the config check warns), as runc does.
  t.equal(capMask(['CAP_KILL', 'CAP_LASER']), 1n << 5n, 'an unknown name is left out');
  t.equal(capMask(['chown', 'KILL', '__proto__', 'constructor']), 0n, 'names are exact, as in the spec');
});
