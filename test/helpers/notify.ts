// sd_notify in tests: the test plays systemd (a datagram socket given as
// NOTIFY_SOCKET), and containers say READY with build/sd-notify
// (native/sd-notify.c; busybox has no systemd-notify), bind-mounted at /sd-notify.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types';
import { bindUnixDgram, recvDatagram } from '../../src/sys/socket';
import { closeQuiet } from '../../src/sys/fs';
import { REPO, cleanEnv } from './harness';

export const SD_NOTIFY = join(REPO, 'build', 'sd-notify');

/** The caller's end of NOTIFY_SOCKET: what the runtime sent, datagram by datagram. */
export class FakeSystemd {
  private readonly fd: number;
  readonly got: string[] = [];
  constructor(readonly path: string) {
    this.fd = bindUnixDgram(path);
  }
  /** Everything that arrived so far. */
  read(): string[] {
    for (let d = recvDatagram(this.fd, 4096); d; d = recvDatagram(this.fd, 4096)) this.got.push(d.toString());
    return this.got;
  }
  close(): void {
    closeQuiet(this.fd);
  }
}

/** config with /sd-notify and the host directory `shared` at /shared (where the test and the container meet). */
export function notifyingConfig(config: Spec, shared: string): Spec {
  const ro = ['bind', 'ro', 'nosuid', 'nodev'];
  config.mounts = [
    ...(config.mounts ?? []),
    { destination: '/sd-notify', source: SD_NOTIFY, type: 'bind', options: ro },
    { destination: '/shared', source: shared, type: 'bind', options: ['bind', 'rw'] },
  ];
  return config;
}

/** A command (a runtime's, podman) running in the background with NOTIFY_SOCKET set; its output goes to `output`. */
export function spawnNotified(
  cmd: string,
  args: string[],
  notifySocket: string,
  output: string,
): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const fd = openSync(output, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: cleanEnv({ NOTIFY_SOCKET: notifySocket }) });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => readFileSync(output, 'utf8') };
}
