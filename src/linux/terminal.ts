// process.terminal: a pty from the container's own devpts becomes the
// process's stdio and /dev/console; its master end goes to whoever listens on
// --console-socket (containerd's shim, conmon, `runc`'s recvtty).
import { fstatSync } from 'node:fs';
import { open, close, closeQuiet, dup2, fsType, FS_MAGIC, O } from '../sys/fs';
import { isErrno } from '../sys/libc';
import { mount, MS } from '../sys/mount';
import { sendFds } from '../sys/socket';
import { setsid } from '../sys/process';
import { unlockpt, ptsNumber, openPeer, setWinsize, setControllingTerminal } from '../sys/tty';

// runc sends the master's file name, which is always "/dev/ptmx"; go-runc
// and conmon only use the descriptor, but keep the payload identical.
const MASTER_NAME = '/dev/ptmx';

function procMounted(): boolean {
  try {
    const fd = open('/proc/self/fd', O.PATH | O.DIRECTORY);
    try {
      return fsType(fd, '/proc/self/fd') === FS_MAGIC.PROC;
    } finally {
      closeQuiet(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Bind-mounts the slave over /dev/console, creating an empty file there if
 * needed. With /proc available both ends go through fds, so a symlink planted
 * at /dev/console or in /dev/pts cannot redirect the mount.
 */
function mountConsole(slave: number, ptsName: string): void {
  let target: number;
  try {
    target = open('/dev/console', O.PATH | O.NOFOLLOW);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    try {
      closeQuiet(open('/dev/console', O.CREAT | O.EXCL | O.WRONLY | O.NOFOLLOW | O.NOCTTY, 0o666));
    } catch (e) {
      // runc fails here too: there is nothing to mount the console on.
      if (isErrno(e, 'EROFS'))
        throw new Error(
          'process.terminal: /dev is read-only and has no /dev/console to mount the terminal on ' +
            '(open(/dev/console): EROFS)',
          { cause: e },
        );
      throw e;
    }
    target = open('/dev/console', O.PATH | O.NOFOLLOW);
  }
  try {
    if (fstatSync(target).isSymbolicLink())
      throw new Error('/dev/console is a symbolic link; refusing to mount the console over it');
    const label = { source: ptsName, target: '/dev/console' };
    if (procMounted()) {
      mount(`/proc/self/fd/${slave}`, `/proc/self/fd/${target}`, null, MS.BIND, null, label);
    } else {
      mount(ptsName, '/dev/console', null, MS.BIND, null, label);
    }
  } finally {
    closeQuiet(target);
  }
}

/**
 * Call after pivot_root, on the thread that will exec. Leaves the slave on
 * fds 0, 1, 2 as the controlling terminal of a new session, and closes the
 * console socket. `tsrun exec` passes mountConsole: false: like runc, only
 * the container's init gets /dev/console.
 */
export function setupConsole(
  consoleSocketFd: number,
  size?: { height: number; width: number },
  /** stderrFd: where the process's stderr waits while fd 2 is /dev/null (init/stderr.ts). */
  opts: { mountConsole?: boolean; stderrFd?: number } = {},
): void {
  const master = open('/dev/ptmx', O.RDWR | O.NOCTTY);
  let slave = -1;
  try {
    try {
      unlockpt(master);
    } catch (err) {
      if (isErrno(err, 'ENOTTY') || isErrno(err, 'EINVAL'))
        throw new Error('/dev/ptmx is not a pseudo-terminal master', { cause: err });
      throw err;
    }
    const ptsName = `/dev/pts/${ptsNumber(master)}`;
    slave = openPeer(master);
    // /dev/ptmx may be the pts/ptmx link or a ptmx node (5:2, a bind-mounted
    // /dev: runc takes either); what it opened must be a pty whose peer lives
    // on a devpts, never anything else the rootfs put there.
    if (fsType(slave, ptsName) !== FS_MAGIC.DEVPTS) throw new Error('/dev/ptmx did not open a devpts pseudo-terminal');
    if (size && size.height > 0 && size.width > 0) setWinsize(master, { rows: size.height, cols: size.width });
    if (opts.mountConsole !== false) mountConsole(slave, ptsName);
    try {
      setsid();
    } catch (err) {
      // Already a session leader (e.g. a process that called setsid
      // earlier): TIOCSCTTY below works for it, or says why not.
      if (!isErrno(err, 'EPERM')) throw err;
    }
    setControllingTerminal(slave);
    for (const fd of [0, 1, opts.stderrFd ?? 2]) dup2(slave, fd);
    sendFds(consoleSocketFd, Buffer.from(MASTER_NAME), [master]);
  } finally {
    if (slave > 2) closeQuiet(slave);
    closeQuiet(master);
  }
  close(consoleSocketFd);
}
