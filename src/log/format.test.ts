// The line format against lines runc 1.1.5 (logrus) wrote on this host.
import t from 'tap';
import { logLine } from './format';

const at = new Date('2026-12-03T13:13:41.123Z');

t.test('text: logrus quotes only what needs it, as Go %q does', async (t) => {
  t.equal(
    logLine('error', 'container does not exist', false, {}, at),
    'time="2026-12-03T13:13:41Z" level=error msg="container does not exist"\n',
  );
  t.equal(
    logLine('error', 'runc: "create" requires exactly 1 argument(s)', false, {}, at),
    String.raw`time="2026-12-03T13:13:41Z" level=error msg="runc: \"create\" requires exactly 1 argument(s)"` + '\n',
  );
  t.equal(
    logLine('debug', 'process exited', false, { status: 0, pid: 10734 }, at),
    'time="2026-12-03T13:13:41Z" level=debug msg="process exited" pid=10734 status=0\n',
    'fields after msg, sorted',
  );
  t.equal(
    logLine('info', 'bare/word-1.2_x@y^z+', false, {}, at),
    'time="2026-12-03T13:13:41Z" level=info msg=bare/word-1.2_x@y^z+\n',
  );
  t.equal(
    logLine('warning', 'a\tb\nc\x01\x07\\', false, {}, at),
    String.raw`time="2026-12-03T13:13:41Z" level=warning msg="a\tb\nc\x01\a\\"` + '\n',
  );
  t.equal(
    logLine('info', '', false, {}, at),
    'time="2026-12-03T13:13:41Z" level=info msg=\n',
    'an empty value is bare',
  );
});

t.test('json: keys sorted, as encoding/json writes a map', async (t) => {
  t.equal(
    logLine('error', 'container does not exist', true, {}, at),
    '{"level":"error","msg":"container does not exist","time":"2026-12-03T13:13:41Z"}\n',
  );
  t.equal(
    logLine('debug', 'process exited', true, { status: 0, pid: 7 }, at),
    '{"level":"debug","msg":"process exited","pid":7,"status":0,"time":"2026-12-03T13:13:41Z"}\n',
  );
});
