// Capability names this kernel cannot grant (issue 18, item 5), through
// bin/tsrun: config.md (since v1.1) wants a warning and SHOULD NOT fail, and
// runc 1.1.5 logs "ignoring unknown or unavailable capabilities" and runs the
// container with the rest. tsrun does the same, naming each entry's JSON path;
// on the same bundle both give the process the same capability sets.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId } from '../../helpers/harness';
import { runRunc, cleanupRunc } from '../../helpers/seccomp-container';
import { kernelCapabilities } from '../../../src/spec/capabilities';
import { capMask } from '../../../src/linux/capabilities';

const PHRASE = 'ignoring unknown or unavailable capabilities';
const SCRIPT = ['sh', '-c', 'grep ^Cap /proc/self/status'];

/** The Cap* lines of /proc/self/status in a container's output. */
const capLines = (out: string) => out.match(/^Cap\w+:\s+[0-9a-f]+$/gm) ?? [];

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('unknown and unavailable names: a warning each, the container runs with the rest', async (t) => {
    const env = testEnv(t);
    t.teardown(() => cleanupRunc(env));
    const id = uniqueId('caps');
    const config = testConfig(id, SCRIPT);
    const caps = config.process!.capabilities!;
    const known = [...caps.bounding!];
    // A made-up name, one not CAP_-shaped, a lower-case one, and the newest name
    // (granted where the kernel has it, warned about where it has not).
    caps.bounding = [...known, 'CAP_FOO', 'FOO', 'cap_sys_admin', 'CAP_CHECKPOINT_RESTORE'];
    caps.effective = [...known, 'CAP_FOO'];
    caps.permitted = [...known, 'CAP_CHECKPOINT_RESTORE', 'CAP_FOO'];
    const log = join(env.dir, 'log');
    const out = join(env.dir, 'out');
    const r = env.run(['--log', log, 'run', '-b', env.bundle(config), id], { output: out });
    const text = readFileSync(out, 'utf8');
    t.equal(r.code, 0, `tsrun runs it: ${text}`);

    const warnings = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('level=warning'));
    const at = (path: string, what: string) =>
      warnings.some((l) => l.includes(`config.json: ${path}: ${PHRASE}: ${what}`));
    const n = known.length;
    t.ok(at(`/process/capabilities/bounding/${n}`, '\\"CAP_FOO\\" is not a capability name'), warnings.join('\n'));
    t.ok(at(`/process/capabilities/bounding/${n + 1}`, '\\"FOO\\" is not a capability name'));
    t.ok(at(`/process/capabilities/bounding/${n + 2}`, '\\"cap_sys_admin\\" is not a capability name'));
    t.ok(at(`/process/capabilities/effective/${n}`, '\\"CAP_FOO\\"'));
    t.ok(at(`/process/capabilities/permitted/${n + 1}`, '\\"CAP_FOO\\"'));
    const hasNewest = kernelCapabilities().includes('CAP_CHECKPOINT_RESTORE');
    t.equal(
      warnings.some((l) => l.includes('CAP_CHECKPOINT_RESTORE is not available')),
      !hasNewest,
      'CAP_CHECKPOINT_RESTORE: a warning only where this kernel lacks it',
    );
    const hex = (names: string[]) => capMask(names).toString(16).padStart(16, '0');
    const newest = hasNewest ? ['CAP_CHECKPOINT_RESTORE'] : [];
    t.match(text, new RegExp(`^CapBnd:\\s+${hex([...known, ...newest])}$`, 'm'), 'bounding: the names it has');
    t.match(text, new RegExp(`^CapPrm:\\s+${hex([...known, ...newest])}$`, 'm'), 'permitted: the same');

    const runc = runRunc(env, config, SCRIPT);
    if (!runc) return;
    t.equal(runc.code, 0, 'runc runs it too');
    t.match(runc.out, new RegExp(`${PHRASE}: \\[CAP_FOO FOO cap_sys_admin\\]`), "runc's warning");
    t.same(capLines(text), capLines(runc.out), 'and gives the process the same sets');
  });
}
