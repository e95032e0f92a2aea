import t from 'tap';
import { checkSemantics } from './semantics';
import { defaultSpec } from './default';

t.test('values the init applies after start are checked at create', async (t) => {
  const c = defaultSpec();
  c.process!.capabilities!.effective = ['CAP_KILL', 'CAP_FLY'];
  c.process!.execCPUAffinity = { initial: '0-1', final: '3-1' };
  const { errors } = checkSemantics(c);
  t.match(errors.join('\n'), /\/process\/capabilities\/effective.*CAP_FLY/);
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
