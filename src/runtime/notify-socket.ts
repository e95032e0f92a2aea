// sd_notify through a container, as runc 1.1 does it. When create or run is
// called with NOTIFY_SOCKET set (systemd's Type=notify, podman --sdnotify=container),
// the container gets a directory of its own, <state dir>/notify, mounted
// read-only at /run/notify, and its process NOTIFY_SOCKET=/run/notify/notify.sock.
// The socket itself is bound there by whoever starts the container (start, or
// run) with NOTIFY_SOCKET set: a directory is mounted, not the socket, so a
// socket bound after the mount still shows inside. That command then waits for
// the container's READY=…, passes it on to the caller's socket with MAINPID,
// and stops listening.
import { mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../spec/types';
import type { ContainerFiles } from '../state/status';
import { isSameLiveProcess } from '../state/proc';
import { bindUnixDgram, connectUnixDgram, recvDatagram, sendDatagram } from '../sys/socket';
import { poll, pollAsync, POLL } from '../sys/poll';
import { closeQuiet } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { TsrunError } from '../errors';

const IN_CONTAINER = '/run/notify';
const SOCKET = 'notify.sock';
/** How often a waiting relay checks that the container's process still lives (runc's ticker). */
const LIVENESS_MS = 100;
/** sd_notify messages are short; systemd itself reads at most a page per datagram. */
const MAX_DATAGRAM = 4096;

/**
 * The config the container is made from: the notify directory mounted as runc
 * mounts it, and NOTIFY_SOCKET last in the environment (a value from config.json
 * loses, as in runc, whose init sets the entries in order).
 */
export function withNotifySocket(config: Spec, container: ContainerFiles): Spec {
  const mount = {
    destination: IN_CONTAINER,
    source: container.notifyDir,
    type: 'bind',
    options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'],
  };
  const env = `NOTIFY_SOCKET=${join(IN_CONTAINER, SOCKET)}`;
  return {
    ...config,
    mounts: [...(config.mounts ?? []), mount],
    process: config.process && { ...config.process, env: [...(config.process.env ?? []), env] },
  };
}

/** Made by create before the init mounts it; removed with the state directory. */
export function makeNotifyDir(container: ContainerFiles): void {
  mkdirSync(container.notifyDir, { mode: 0o755 });
}

/**
 * The line to pass on from one datagram of the container's: its READY=… line,
 * if any. runc 1.1 takes a datagram only when it begins with READY=; a later
 * line counts here too (sd_notify(3): newline-separated assignments, in any order).
 */
export function readyLine(datagram: Buffer): string | undefined {
  return datagram
    .toString('utf8')
    .split('\n')
    .find((l) => l.startsWith('READY='));
}

/** The container's end, bound before the container starts; `host` is the caller's NOTIFY_SOCKET. */
export class NotifyRelay {
  private constructor(
    private readonly fd: number,
    private readonly host: string,
  ) {}

  /** Fails (the container stays created) where create was called without NOTIFY_SOCKET: no directory. */
  static bind(container: ContainerFiles, host: string): NotifyRelay {
    const path = join(container.notifyDir, SOCKET);
    let fd: number;
    try {
      fd = bindUnixDgram(path);
    } catch (e) {
      const hint = isErrno(e, 'ENOENT') ? ' (the container was created without NOTIFY_SOCKET)' : '';
      throw new TsrunError(`NOTIFY_SOCKET ${host}: the container's socket: ${(e as Error).message}${hint}`);
    }
    try {
      // The container's process may run as any user.
      chmodSync(path, 0o777);
    } catch (e) {
      closeQuiet(fd);
      throw e;
    }
    return new NotifyRelay(fd, host);
  }

  /**
   * Waits for the container's READY=… while its process (pid, started at
   * pidStart) lives, then sends the caller READY=… and MAINPID=mainPid, each a
   * datagram, as runc. The caller's socket is connected first: a NOTIFY_SOCKET
   * that nobody listens on fails here, before any waiting.
   */
  passReady(pid: number, pidStart: string | undefined, mainPid: number): void {
    const client = this.connectHost();
    try {
      while (!this.settled(client, pid, pidStart, mainPid)) poll([{ fd: this.fd, events: POLL.IN }], LIVENESS_MS);
    } finally {
      closeQuiet(client);
    }
  }

  /** passReady without blocking the event loop: a foreground run forwards signals meanwhile. */
  async passReadyAsync(pid: number, pidStart: string | undefined, mainPid: number): Promise<void> {
    const client = this.connectHost();
    try {
      while (!this.settled(client, pid, pidStart, mainPid))
        await pollAsync([{ fd: this.fd, events: POLL.IN }], LIVENESS_MS);
    } finally {
      closeQuiet(client);
    }
  }

  close(): void {
    closeQuiet(this.fd);
  }

  private connectHost(): number {
    try {
      return connectUnixDgram(this.host);
    } catch (e) {
      throw new TsrunError(`NOTIFY_SOCKET ${this.host}: ${(e as Error).message}`);
    }
  }

  /** Done: READY=… passed on, or the container's process is gone without sending it. */
  private settled(client: number, pid: number, pidStart: string | undefined, mainPid: number): boolean {
    const line = this.takeReady();
    if (line === undefined) return !isSameLiveProcess(pid, pidStart);
    this.send(client, line, mainPid);
    return true;
  }

  /** Drains what the container sent; the first READY=… line, if one came. */
  private takeReady(): string | undefined {
    for (let d = recvDatagram(this.fd, MAX_DATAGRAM); d; d = recvDatagram(this.fd, MAX_DATAGRAM)) {
      const line = readyLine(d);
      if (line !== undefined) return line;
    }
    return undefined;
  }

  private send(client: number, ready: string, mainPid: number): void {
    // systemd then watches mainPid: the container's process, or a foreground run that waits for it.
    sendDatagram(client, Buffer.from(`${ready}\n`));
    sendDatagram(client, Buffer.from(`MAINPID=${mainPid}\n`));
  }
}
