import t from 'tap';
import { readyLine, withNotifySocket } from './notify-socket';
import { defaultSpec } from '../spec/default';
import type { ContainerFiles } from '../state/status';

t.test('readyLine: the READY=… line of a datagram, wherever it stands', async (t) => {
  t.equal(readyLine(Buffer.from('READY=1')), 'READY=1');
  t.equal(readyLine(Buffer.from('READY=1\nSTATUS=up\n')), 'READY=1');
  t.equal(readyLine(Buffer.from('STATUS=up\nREADY=1')), 'READY=1', 'a later line counts too');
  t.equal(readyLine(Buffer.from('STATUS=READY=1')), undefined, 'only at the start of a line');
  t.equal(readyLine(Buffer.from('')), undefined);
});

t.test('withNotifySocket: runc 1.1 mount and environment, the given config untouched', async (t) => {
  const config = defaultSpec();
  config.process!.env = ['PATH=/bin', 'NOTIFY_SOCKET=/elsewhere'];
  const before = JSON.stringify(config);
  const out = withNotifySocket(config, { notifyDir: '/run/tsrun/c1/notify' } as ContainerFiles);
  t.same(out.mounts!.at(-1), {
    destination: '/run/notify',
    source: '/run/tsrun/c1/notify',
    type: 'bind',
    options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'],
  });
  t.same(out.process!.env, ['PATH=/bin', 'NOTIFY_SOCKET=/elsewhere', 'NOTIFY_SOCKET=/run/notify/notify.sock']);
  t.equal(JSON.stringify(config), before, 'the caller config is not changed');
  const noProcess = withNotifySocket({ ...config, process: undefined }, { notifyDir: '/d' } as ContainerFiles);
  t.equal(noProcess.process, undefined, 'create without a process: the mount only');
});
