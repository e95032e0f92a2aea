// linux.netDevices (runtime-spec 1.3): move named host network devices into
// the container's network namespace, renamed when asked, with their permanent
// global addresses, and set them up. tsrun create does it from the host
// namespace once the init has its namespace, before any hook runs.
//
// The spec forbids moving them back before deletion: the namespace's owner
// decides their fate (the kernel returns physical devices to the initial
// namespace when it dies and destroys virtual ones). A create that fails
// after moving some does move them back, so that it leaves nothing behind.
import { statSync } from 'node:fs';
import type { Spec, LinuxNetDevice } from '../spec/types';
import { InvalidInputError } from '../errors';
import { debug, warn } from '../log';
import { open, O, closeQuiet } from '../sys/fs';
import { setns, CLONE } from '../sys/ns';
import {
  RouteNetlink,
  NetlinkError,
  IFA_F_PERMANENT,
  RT_SCOPE_UNIVERSE,
  IFF_UP,
  addressText,
  type Address,
  type Link,
} from './netlink';

const IFNAMSIZ = 16;

/** JSON pointer of one entry (RFC 6901 escapes). */
const pointer = (host: string) => `/linux/netDevices/${host.replace(/~/g, '~0').replace(/\//g, '~1')}`;

const targetName = (host: string, d: LinuxNetDevice | undefined) => d?.name || host;

/** What the kernel's dev_valid_name accepts; `%d` makes a template the kernel fills in. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (Buffer.byteLength(name) >= IFNAMSIZ) return `is longer than ${IFNAMSIZ - 1} bytes`;
  if (name === '.' || name === '..') return 'is not a valid interface name';
  if (/[/:\s]/.test(name)) return "may not contain '/', ':' or whitespace";
  return undefined;
}

/** What can be checked before anything is created: names, duplicates, a network namespace of its own. */
export function checkNetDevices(config: Spec): void {
  const devices = Object.entries(config.linux?.netDevices ?? {});
  if (!devices.length) return;
  const problems: string[] = [];
  const bad = (path: string, why: string) => problems.push(`config.json: ${path}: ${why}`);
  if (!config.linux?.namespaces?.some((n) => n.type === 'network')) {
    bad(
      '/linux/netDevices',
      'the container has no network namespace of its own to move devices into ' +
        '(add a "network" entry to /linux/namespaces)',
    );
  }
  const seen = new Map<string, string>();
  for (const [host, d] of devices) {
    const hostProblem = nameProblem(host);
    if (hostProblem) bad(pointer(host), `host device name "${host}" ${hostProblem}`);
    const target = targetName(host, d);
    const targetProblem = d?.name !== undefined ? nameProblem(d.name) : undefined;
    if (targetProblem) bad(`${pointer(host)}/name`, `"${d?.name}" ${targetProblem}`);
    // A template (%d) gets a free name from the kernel; anything else must be unique.
    if (target.includes('%')) continue;
    const other = seen.get(target);
    if (other !== undefined) bad(pointer(host), `"${other}" is also to be called "${target}" in the container`);
    else seen.set(target, host);
  }
  if (problems.length) throw new InvalidInputError(problems.join('\n'));
}

interface Planned {
  hostName: string;
  target: string;
  path: string;
  link: Link;
}

interface Moved {
  host: string;
  /** Its index in the container's namespace (the kernel keeps it unless taken there). */
  index: number;
  wasUp: boolean;
  addresses: Address[];
}

/** The devices one create moved: open sockets to both namespaces, to move them back if create fails. */
export class MovedNetDevices {
  readonly moved: Moved[] = [];

  constructor(
    private readonly id: string,
    private readonly hostNs: number,
    private readonly containerNs: number,
    private readonly host: RouteNetlink,
    private readonly container: RouteNetlink,
  ) {}

  /** Check that one device can be moved, before any is: it exists here, its name is free there. */
  prepare(hostName: string, d: LinuxNetDevice | undefined): Planned {
    const path = pointer(hostName);
    const target = targetName(hostName, d);
    const link = this.host.linkByName(hostName, 'the host network namespace');
    if (!link)
      throw new InvalidInputError(
        `config.json: ${path}: there is no network device "${hostName}" in the host network namespace`,
      );
    if (!target.includes('%') && this.container.linkByName(target, `the network namespace of ${this.id}`)) {
      throw new InvalidInputError(
        `config.json: ${path}${d?.name ? '/name' : ''}: a network device "${target}" already exists ` +
          `in the network namespace of ${this.id}`,
      );
    }
    return { hostName, target, path, link };
  }

  /** Move one device; on failure nothing of it stays moved, and the error names its JSON path. */
  move({ hostName, target, path, link }: Planned): void {
    const addresses = this.host
      .addresses(link.index, `${hostName} in the host network namespace`)
      .filter((a) => a.flags & IFA_F_PERMANENT && a.scope === RT_SCOPE_UNIVERSE);
    const what = `${hostName} → netns of ${this.id}${target !== hostName ? ` as ${target}` : ''}`;
    try {
      this.host.moveLink(link.index, this.containerNs, target, what);
    } catch (e) {
      // The kernel renames after the move: a failed rename leaves the device moved under its host name.
      const stray = this.container.linkByIndex(link.index, `the network namespace of ${this.id}`);
      if (stray && !this.host.linkByName(hostName, 'the host network namespace')) {
        this.moved.push({ host: hostName, index: stray.index, wasUp: !!(link.flags & IFF_UP), addresses });
      }
      throw netError(path, e);
    }
    const moved =
      this.container.linkByIndex(link.index, `the network namespace of ${this.id}`) ??
      (target.includes('%') ? undefined : this.container.linkByName(target, `the network namespace of ${this.id}`));
    if (!moved)
      throw new InvalidInputError(
        `config.json: ${path}: "${hostName}" was moved but cannot be found in the network namespace of ${this.id}`,
      );
    this.moved.push({ host: hostName, index: moved.index, wasUp: !!(link.flags & IFF_UP), addresses });
    try {
      for (const a of addresses)
        this.container.addAddress(a, moved.index, `${addressText(a)} on ${moved.name} in netns of ${this.id}`);
      this.container.setUp(moved.index, `${moved.name} up in netns of ${this.id}`);
    } catch (e) {
      throw netError(path, e);
    }
    debug(`network device ${hostName} moved into the container as ${moved.name}`, {
      addresses: addresses.map(addressText).join(' '),
    });
  }

  /** Back to the host under their host names, with their addresses and up state: a failed create's undo. */
  restore(): void {
    for (const m of this.moved.splice(0).reverse()) {
      try {
        this.container.moveLink(m.index, this.hostNs, m.host, `${m.host} back to the host network namespace`);
        const link = this.host.linkByName(m.host, 'the host network namespace');
        if (!link) throw new Error(`${m.host} is not in the host network namespace after moving it back`);
        for (const a of m.addresses) this.host.addAddress(a, link.index, `${addressText(a)} on ${m.host}`);
        if (m.wasUp) this.host.setUp(link.index, `${m.host} up`);
      } catch (e) {
        warn(`network device ${m.host}: could not restore it on the host: ${(e as Error).message}`);
      }
    }
  }

  close(): void {
    this.host.close();
    this.container.close();
    closeQuiet(this.hostNs);
    closeQuiet(this.containerNs);
  }
}

function netError(path: string, e: unknown): Error {
  return e instanceof NetlinkError ? new InvalidInputError(`config.json: ${path}: ${e.message}`) : (e as Error);
}

/**
 * A route socket in another network namespace: opened on this thread after
 * setns(CLONE_NEWNET), which (unlike a user or mount namespace) a thread of a
 * multithreaded process may join; the thread goes straight back.
 */
function routeSocketIn(nsFd: number, hostNs: number, label: string): RouteNetlink {
  setns(nsFd, CLONE.NEWNET, label);
  try {
    return RouteNetlink.open(label);
  } finally {
    setns(hostNs, CLONE.NEWNET, 'the runtime network namespace');
  }
}

/**
 * Move config.linux.netDevices into the network namespace of the init `pid`.
 * All or nothing: if one fails, those already moved go back before the error.
 * The caller closes the result, after a `restore()` if create fails later.
 */
export function moveNetDevices(config: Spec, pid: number, id: string): MovedNetDevices | undefined {
  const devices = Object.entries(config.linux?.netDevices ?? {});
  if (!devices.length) return undefined;
  const nsPath = `/proc/${pid}/ns/net`;
  if (statSync(nsPath).ino === statSync('/proc/thread-self/ns/net').ino) {
    throw new InvalidInputError(
      "config.json: /linux/netDevices: the container's network namespace is the runtime's own " +
        '(its /linux/namespaces network entry joins it by path)',
    );
  }
  const hostNs = open('/proc/thread-self/ns/net', O.RDONLY);
  let containerNs: number | undefined;
  let host: RouteNetlink | undefined;
  let container: RouteNetlink | undefined;
  try {
    containerNs = open(nsPath, O.RDONLY);
    host = RouteNetlink.open('the host network namespace');
    container = routeSocketIn(containerNs, hostNs, `network namespace of ${id}`);
  } catch (e) {
    host?.close();
    closeQuiet(containerNs);
    closeQuiet(hostNs);
    throw e;
  }
  const handle = new MovedNetDevices(id, hostNs, containerNs, host, container);
  try {
    const planned = devices.map(([name, d]) => handle.prepare(name, d));
    for (const p of planned) handle.move(p);
  } catch (e) {
    handle.restore();
    handle.close();
    throw e;
  }
  return handle;
}
