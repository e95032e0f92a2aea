import t from 'tap';
import { semanticDiagnostics } from './semantics';
import { diagnosticLine } from './diagnostic';
import type { Spec } from './types';

/** The rules' verdict as the CLI prints it: `config.json: <pointer>: <message>` lines. */
function checkSemantics(config: Spec): { errors: string[]; warnings: string[] } {
  const found = semanticDiagnostics(config);
  const lines = (severity: string) => found.filter((d) => d.severity === severity).map(diagnosticLine);
  return { errors: lines('error'), warnings: lines('warning') };
}
import { defaultSpec } from './default';

t.test('values the init applies after start are checked at create', async (t) => {
  const c = defaultSpec();
  c.process!.capabilities!.effective = ['CAP_KILL', 'CAP_FLY'];
  c.process!.execCPUAffinity = { initial: '0-1', final: '3-1' };
  const { errors, warnings } = checkSemantics(c);
  // Issue 18: an unknown capability is ignored with a warning (config.md since v1.1, runc), no longer an error.
  t.notMatch(errors.join('\n'), /CAP_FLY/);
  t.match(
    warnings.join('\n'),
    /\/process\/capabilities\/effective\/1: ignoring unknown or unavailable capabilities: .*CAP_FLY/,
  );
  t.match(errors.join('\n'), /\/process\/execCPUAffinity\/final: invalid CPU range/);
  t.notMatch(errors.join('\n'), /execCPUAffinity\/initial/);
});

t.test('root.readonly needs a mount namespace', async (t) => {
  const c = defaultSpec();
  c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount');
  c.linux!.maskedPaths = [];
  c.linux!.readonlyPaths = [];
  c.root!.readonly = true;
  t.same(checkSemantics(c).errors, ['config.json: /root/readonly: needs a mount namespace in /linux/namespaces']);
  c.root!.readonly = false;
  t.same(checkSemantics(c).errors, []);
});

t.test('device rules runc accepts are accepted, with a warning where they do not mean what they say', async (t) => {
  const c = defaultSpec();
  c.linux!.resources = {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rrw' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwx' },
      { allow: true, type: 'a', major: 7, access: 'r' },
      { allow: true, type: 'b', major: 8, minor: 0, access: '' },
    ],
  };
  const { errors, warnings } = checkSemantics(c);
  t.same(errors, []);
  t.same(
    warnings,
    [
      'config.json: /linux/resources/devices/2/access: "x" ignored: only "r", "w" and "m" are device access types',
      'config.json: /linux/resources/devices/3: type "a" applies to every device: major and minor are ignored, ' +
        'so this allows all devices',
      'config.json: /linux/resources/devices/4/access: "" grants or denies no access: the rule has no effect',
    ],
    'duplicates and order need no warning',
  );
});
