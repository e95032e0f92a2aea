import t from 'tap';
import { CAPABILITY_NAMES, capabilityWarnings, kernelCapabilities } from './capabilities';
import { features } from './features';
import { validateConfig } from '../api/validate';
import { defaultSpec } from './default';

const PHRASE = 'ignoring unknown or unavailable capabilities';

t.test('names this kernel grants pass; any other is a warning at its JSON pointer', async (t) => {
  const available = CAPABILITY_NAMES.slice(0, 40); // a kernel whose last capability is CAP_BPF
  t.same(capabilityWarnings({ bounding: ['CAP_KILL', 'CAP_BPF'] }, '/process/capabilities', available), []);
  t.same(capabilityWarnings(undefined, '/x', available), [], 'no capabilities object');
  const w = capabilityWarnings(
    { effective: ['CAP_KILL', 'CAP_FOO'], ambient: ['CAP_CHECKPOINT_RESTORE'], bounding: ['sys_admin', 'FOO'] },
    '/process/capabilities',
    available,
  );
  t.same(w, [
    {
      path: '/process/capabilities/bounding/0',
      message:
        `${PHRASE}: "sys_admin" is not a capability name tsrun knows ` +
        '(names are upper case and start with CAP_: CAP_SYS_ADMIN)',
    },
    { path: '/process/capabilities/bounding/1', message: `${PHRASE}: "FOO" is not a capability name tsrun knows` },
    { path: '/process/capabilities/effective/1', message: `${PHRASE}: "CAP_FOO" is not a capability name tsrun knows` },
    {
      path: '/process/capabilities/ambient/0',
      message: `${PHRASE}: CAP_CHECKPOINT_RESTORE is not available on this kernel (its last capability is CAP_BPF)`,
    },
  ]);
});

t.test('kernelCapabilities follows cap_last_cap', async (t) => {
  t.same(kernelCapabilities(() => '39\n').at(-1), 'CAP_BPF');
  t.same(
    kernelCapabilities(() => 'junk'),
    CAPABILITY_NAMES,
    'unreadable: every name tsrun knows',
  );
  t.same(
    kernelCapabilities(() => {
      throw new Error('ENOENT');
    }),
    CAPABILITY_NAMES,
    'no file (before Linux 3.2): every name tsrun knows',
  );
});

t.test('tsrun features and validateConfig agree: warned about exactly the names features leaves out', async (t) => {
  const listed = features().linux.capabilities;
  const c = defaultSpec();
  c.process!.capabilities!.bounding = [...listed, 'CAP_FOO', 'CAP_NOT_YET_INVENTED'];
  const d = validateConfig(c);
  t.same(
    d.map((x) => [x.severity, x.path]),
    [
      ['warning', `/process/capabilities/bounding/${listed.length}`],
      ['warning', `/process/capabilities/bounding/${listed.length + 1}`],
    ],
    'warnings, not errors, and only for the names features does not list',
  );
  t.ok(d.every((x) => x.message.startsWith(PHRASE)));
});
