// exec --cgroup's argument as runc reads it: [controller[,controller…]:]path,
// "/" the container's own cgroup, nothing that climbs out of it.
import t from 'tap';
import { parseSubCgroup } from './exec';

t.test('parseSubCgroup', async (t) => {
  t.same(parseSubCgroup('/'), { controller: undefined, path: '.' }, "/ is the container's cgroup");
  t.same(parseSubCgroup('memory:/'), { controller: 'memory', path: '.' });
  t.same(parseSubCgroup('cpu,cpuacct:sub/x'), { controller: 'cpu,cpuacct', path: 'sub/x' });
  t.same(parseSubCgroup('//a//b/'), { controller: undefined, path: 'a/b/' });
  for (const bad of ['', 'memory:', ':x', 'cpu,:x', 'a:b:c'])
    t.throws(() => parseSubCgroup(bad), /^invalid --cgroup argument: /, JSON.stringify(bad));
  t.throws(() => parseSubCgroup('../x'), /^\.\.\/x is not a sub cgroup path/);
  t.throws(() => parseSubCgroup('memory:a/../../x'), /is not a sub cgroup path/);
});
