// The bundle variants the differential harness runs under both runtimes: the
// data of the harness. Each variant edits a copy of the base config
// (../lib/config.mjs: runc spec's shape, read-only root, /out bind mount,
// args ['/probe']) and says whether a runtime should accept it.
//
//   { name, section, expect: 'accept' | 'refuse', edit(config, ctx), exec?, terminal?, taskset? }
//
// exec: the container runs sleep and the probe is `exec`'d into it (then the
// container is killed): { flags: [exec's flags], args: [process args, default
// /probe], process(config) → process.json's object (--process), preserveFds: N
// files opened as fds 3... of the runtime's caller, noProbe: the exec fails,
// no output expected }; exec's status is the field "exec". terminal: create
// gets --console-socket and the probe's output is read from the pty master.
// taskset: the CPU list the runtime's caller runs on (taskset -c LIST).
// `section` is the config.md / config-linux.md section the variant exercises.
// ctx (runner.mjs): rootfs, bundle; hostDir(name) → a host directory with a
// file in it; holder(name, unshareFlags, idMap?) → a pid holding new namespaces
// (idMap: its user namespace's uid and gid map); hook(name) → a hook recording
// its run; rootDevice → "major:minor" of the filesystem holding the bundles.
const MiB = 1024 * 1024;
/** process.args running the probe (/probe in the rootfs) with these options. */
const probe = (...args) => ['/probe', ...args];
/** The probe reporting the content of files below dir. */
const probeFiles = (dir, ...lists) => probe(...lists.flat().flatMap((f) => ['--file', dir + f]));
// Every capability but CAP_SYS_RESOURCE, which the CI machine's own bounding set lacks (both runtimes refuse
// to grant a capability they do not hold). The hard rlimits below stay within the machine's for the same reason.
// prettier-ignore
const ALL_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE',
  'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);
const capSets = (list, sets = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']) =>
  Object.fromEntries(sets.map((s) => [s, [...list]]));
const dropNs = (c, type) => (c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== type));
/** Replaces a new namespace of `type` with the one at `path`. */
const joinNs = (c, type, path) => {
  dropNs(c, type);
  c.linux.namespaces.push({ type, path });
};
const cgroupMount = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'ro'] };
const userMapping = [{ containerID: 0, hostID: 100000, size: 65536 }];

/** @type {{name: string, section: string, expect: 'accept' | 'refuse', edit: Function}[]} */
export const variants = [
  // ---- config.md: process ----
  { name: 'default', section: 'config.md', expect: 'accept', edit: () => {} },
  {
    name: 'exit-status',
    section: 'config.md#process (args)',
    expect: 'accept',
    edit: (c) => (c.process.args = probe('--exit', '7')),
  },
  {
    name: 'args-path-lookup',
    section: 'config.md#process (args[0] found through PATH)',
    expect: 'accept',
    edit: (c) => {
      c.process.args = ['probe'];
      c.process.env = ['PATH=/bin:/'];
    },
  },
  {
    name: 'env',
    section: 'config.md#process (env)',
    expect: 'accept',
    edit: (c) => (c.process.env = ['A=1', 'B=two words', 'EMPTY=', 'A=2', 'PATH=/bin']),
  },
  {
    name: 'env-home-set',
    section: 'config.md#process (env)',
    expect: 'accept',
    edit: (c) => c.process.env.push('HOME=/tmp'),
  },
  { name: 'cwd', section: 'config.md#process (cwd)', expect: 'accept', edit: (c) => (c.process.cwd = '/tmp') },
  {
    name: 'cwd-missing-readonly-root',
    section: 'config.md#process (cwd)',
    expect: 'accept',
    edit: (c) => (c.process.cwd = '/probe-cwd/sub'),
  },
  {
    name: 'user',
    section: 'config.md#user (uid, gid, umask, additionalGids)',
    expect: 'accept',
    edit: (c) => (c.process.user = { uid: 1000, gid: 1000, umask: 0o027, additionalGids: [10, 1000, 2000] }),
  },
  {
    name: 'user-from-passwd',
    section: 'config.md#user (an /etc/passwd user: HOME)',
    expect: 'accept',
    edit: (c) => (c.process.user = { uid: 65534, gid: 65534 }),
  },
  {
    name: 'rlimits',
    section: 'config.md#process (rlimits)',
    expect: 'accept',
    edit: (c) =>
      (c.process.rlimits = [
        ['CPU', 100, 200],
        ['FSIZE', 1e9, 2e9],
        ['DATA', 1e9, 2e9],
        ['STACK', 8 * MiB, 16 * MiB],
        ['CORE', 1000, 2000],
        ['RSS', 1e9, 2e9],
        ['NPROC', 500, 1000],
        ['NOFILE', 512, 2048],
        ['MEMLOCK', 65536, 131072],
        ['AS', 4e9, 8e9],
        ['LOCKS', 50, 100],
        ['SIGPENDING', 100, 200],
        ['MSGQUEUE', 1000, 2000],
        ['NICE', 0, 0],
        ['RTPRIO', 0, 0],
        ['RTTIME', 1000000, 2000000],
      ].map(([t, soft, hard]) => ({ type: `RLIMIT_${t}`, soft, hard }))),
  },
  {
    name: 'caps-all',
    section: 'config.md#process (capabilities, all five sets)',
    expect: 'accept',
    edit: (c) => (c.process.capabilities = capSets(ALL_CAPS)),
  },
  {
    name: 'caps-none',
    section: 'config.md#process (capabilities, empty)',
    expect: 'accept',
    edit: (c) => (c.process.capabilities = capSets([])),
  },
  {
    name: 'caps-ambient-non-root',
    section: 'config.md#process (capabilities with a non-root user)',
    expect: 'accept',
    edit: (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = capSets(['CAP_NET_RAW', 'CAP_KILL']);
    },
  },
  {
    name: 'caps-absent',
    section: 'config.md#process (capabilities absent)',
    expect: 'accept',
    edit: (c) => delete c.process.capabilities,
  },
  {
    name: 'no-new-privileges-off',
    section: 'config.md#process (noNewPrivileges)',
    expect: 'accept',
    edit: (c) => (c.process.noNewPrivileges = false),
  },
  {
    name: 'oom-score-adj',
    section: 'config.md#process (oomScoreAdj)',
    expect: 'accept',
    edit: (c) => (c.process.oomScoreAdj = 500),
  },
  {
    name: 'scheduler',
    section: 'config.md#scheduler',
    expect: 'accept',
    edit: (c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 5 }),
  },
  {
    name: 'io-priority',
    section: 'config.md#ioprio',
    expect: 'accept',
    edit: (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 3 }),
  },
  // ---- runtime.md#exec (runc's exec command): a process joining a running container ----
  {
    name: 'exec-default',
    section: 'runc exec (config.json process defaults)',
    expect: 'accept',
    edit: () => {},
    exec: {},
  },
  {
    name: 'exec-exit-status',
    section: "runc exec (exit status: the process's)",
    expect: 'accept',
    edit: () => {},
    exec: { args: probe('--exit', '7') },
  },
  {
    name: 'exec-missing-program',
    section: 'runc exec (exit status 255: exec itself failed)',
    expect: 'accept',
    edit: () => {},
    exec: { args: ['/nonexistent'], noProbe: true },
  },
  {
    name: 'exec-flags',
    section: 'runc exec (--env, --cwd, --user, --additional-gids, --cap)',
    expect: 'accept',
    edit: () => {},
    exec: {
      // prettier-ignore
      flags: ['--env', 'A=1', '--env', 'PATH=/bin', '--cwd', '/tmp', '--user', '1000:1000', '--additional-gids', '10',
        '--cap', 'CAP_NET_RAW'],
    },
  },
  {
    name: 'exec-no-new-privs',
    section: 'runc exec (--no-new-privs with noNewPrivileges false in config.json)',
    expect: 'accept',
    edit: (c) => (c.process.noNewPrivileges = false),
    exec: { flags: ['--no-new-privs'] },
  },
  {
    name: 'exec-preserve-fds',
    section: 'runc exec (--preserve-fds)',
    expect: 'accept',
    edit: () => {},
    exec: { flags: ['--preserve-fds', '1'], preserveFds: 1 },
  },
  {
    name: 'exec-process',
    section: 'runc exec --process (user, env, cwd, capabilities, rlimits, noNewPrivileges)',
    expect: 'accept',
    edit: () => {},
    exec: {
      process: (c) => ({
        ...c.process,
        args: probe(),
        user: { uid: 1000, gid: 1000, umask: 0o027, additionalGids: [10, 2000] },
        env: ['PATH=/bin', 'FROM=process.json'],
        cwd: '/tmp',
        capabilities: capSets(['CAP_NET_RAW', 'CAP_KILL', 'CAP_CHOWN']),
        rlimits: [
          { type: 'RLIMIT_NOFILE', soft: 256, hard: 512 },
          { type: 'RLIMIT_CORE', soft: 1000, hard: 2000 },
        ],
        noNewPrivileges: false,
      }),
    },
  },
  {
    name: 'exec-process-no-caps',
    section: "runc exec --process (no capabilities object: the container's)",
    expect: 'accept',
    edit: () => {},
    exec: { process: (c) => ({ ...c.process, args: probe(), capabilities: undefined }) },
  },
  {
    name: 'exec-process-sched',
    section: 'config.md#scheduler, #ioprio, #process (execCPUAffinity) in exec --process',
    expect: 'accept',
    edit: () => {},
    exec: {
      process: (c) => ({
        ...c.process,
        args: probe(),
        scheduler: { policy: 'SCHED_BATCH', nice: 3 },
        ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 5 },
        execCPUAffinity: { final: '0' },
      }),
    },
  },
  {
    name: 'exec-taskset',
    section: 'runc exec under taskset -c 1 (CPU affinity: reset, runc 1.2.7+)',
    expect: 'accept',
    edit: () => {},
    exec: {},
    taskset: '1',
  },
  // ---- a terminal, the caller's CPU list ----
  {
    name: 'terminal',
    section: 'config.md#process (terminal), runtime.md console socket',
    expect: 'accept',
    edit: (c) => (c.process.terminal = true),
    terminal: true,
  },
  {
    name: 'terminal-user',
    section: 'config.md#process (terminal: the pty belongs to the user)',
    expect: 'accept',
    edit: (c) => {
      c.process.terminal = true;
      c.process.user = { uid: 1000, gid: 1000 };
    },
    terminal: true,
  },
  {
    name: 'taskset',
    section: 'config.md#process (affinity of the init under taskset -c 1: reset, runc 1.2.7+)',
    expect: 'accept',
    edit: () => {},
    taskset: '1',
  },
  // ---- config.md: root, hostname, mounts, hooks, annotations ----
  { name: 'root-writable', section: 'config.md#root', expect: 'accept', edit: (c) => (c.root.readonly = false) },
  {
    name: 'hostname-domainname',
    section: 'config.md#hostname, #domainname',
    expect: 'accept',
    edit: (c) => {
      c.hostname = 'probe-host';
      c.domainname = 'probe.example';
    },
  },
  {
    name: 'mounts',
    section: 'config.md#mounts (bind ro/rw, tmpfs options, file bind)',
    expect: 'accept',
    edit: (c, x) => {
      const src = x.hostDir('src');
      c.mounts.push(
        { destination: '/mnt/ro', type: 'bind', source: src, options: ['rbind', 'ro'] },
        { destination: '/mnt/rw', type: 'bind', source: src, options: ['bind', 'rw', 'nosuid', 'nodev'] },
        {
          destination: '/mnt/tmp',
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['size=1m', 'mode=0700', 'uid=1000', 'gid=1000', 'noexec', 'nosuid', 'nodev', 'noatime'],
        },
        { destination: '/etc/probe-file', type: 'bind', source: `${src}/file`, options: ['bind', 'ro'] },
      );
      c.process.args = probe('--path', '/mnt/ro/file', '--path', '/mnt/rw/file', '--file', '/etc/probe-file');
    },
  },
  {
    name: 'mounts-propagation',
    section: 'config.md#mounts (rshared, rslave, rprivate, unbindable)',
    expect: 'accept',
    edit: (c, x) => {
      const src = x.hostDir('src');
      for (const [dir, prop] of [
        ['shared', 'rshared'],
        ['slave', 'rslave'],
        ['private', 'rprivate'],
        ['unbindable', 'unbindable'],
      ])
        c.mounts.push({ destination: `/mnt/${dir}`, type: 'bind', source: src, options: ['rbind', prop] });
    },
  },
  {
    name: 'hooks-annotations',
    section: 'config.md#posix-platform-hooks, #annotations',
    expect: 'accept',
    edit: (c, x) => {
      c.annotations = { 'org.example.probe': 'value', 'org.example.empty': '' };
      c.hooks = {
        prestart: [x.hook('prestart')],
        createRuntime: [x.hook('createRuntime')],
        createContainer: [x.hook('createContainer')],
        poststart: [x.hook('poststart')],
        poststop: [x.hook('poststop')],
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo startContainer >> /out/hook-order'] }],
      };
      c.process.args = probe('--file', '/out/hook-order');
    },
  },
  // ---- config-linux.md: namespaces and id mappings ----
  ...['network', 'ipc', 'pid'].map((type) => ({
    name: `ns-no-${type}`,
    section: `config-linux.md#namespaces (${type} shared with the host)`,
    expect: 'accept',
    edit: (c) => dropNs(c, type),
  })),
  {
    name: 'ns-no-mount',
    section: 'config-linux.md#namespaces (mount shared with the host: both runtimes need their own to pivot_root)',
    expect: 'refuse',
    edit: (c) => dropNs(c, 'mount'),
  },
  {
    name: 'ns-no-uts',
    section: 'config-linux.md#namespaces (uts shared with the host, no hostname)',
    expect: 'accept',
    edit: (c) => {
      dropNs(c, 'uts');
      delete c.hostname;
    },
  },
  {
    name: 'ns-cgroup',
    section: 'config-linux.md#namespaces (cgroup)',
    expect: 'accept',
    edit: (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.mounts.push(cgroupMount);
    },
  },
  {
    name: 'ns-user',
    section: 'config-linux.md#namespaces (user), #user-namespace-mappings',
    expect: 'accept',
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = userMapping;
      c.linux.gidMappings = userMapping;
    },
  },
  {
    name: 'ns-time',
    section: 'config-linux.md#namespaces (time), #offset-for-time-namespace',
    expect: 'accept',
    edit: (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { monotonic: { secs: 100, nanosecs: 5 }, boottime: { secs: 200, nanosecs: 0 } };
    },
  },
  ...[
    ['network', '--net'],
    ['ipc', '--ipc'],
    ['uts', '--uts'],
    ['cgroup', '--cgroup'],
  ].map(([type, flag]) => ({
    name: `ns-path-${type}`,
    section: `config-linux.md#namespaces (path: join an existing ${type} namespace)`,
    expect: 'accept',
    edit: async (c, x) => {
      const pid = await x.holder(type, [flag]);
      const file = { network: 'net', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup' }[type];
      joinNs(c, type, `/proc/${pid}/ns/${file}`);
      if (type === 'uts') delete c.hostname;
    },
  })),
  {
    name: 'ns-path-pid',
    section: 'config-linux.md#namespaces (path: join an existing pid namespace, whose first process is a holder)',
    expect: 'accept',
    edit: async (c, x) => {
      const pid = await x.holder('pid', ['--pid', '--fork']);
      joinNs(c, 'pid', `/proc/${pid}/ns/pid`);
    },
  },
  {
    name: 'ns-path-mount',
    section: 'config-linux.md#namespaces (path: join an existing mount namespace)',
    expect: 'accept',
    edit: async (c, x) => {
      const pid = await x.holder('mount', ['--mount']);
      joinNs(c, 'mount', `/proc/${pid}/ns/mnt`);
    },
  },
  {
    name: 'ns-path-user',
    section: 'config-linux.md#namespaces (path: join an existing user namespace, with its mappings)',
    expect: 'accept',
    edit: async (c, x) => {
      const pid = await x.holder('user', ['--user', '--net'], '0 100000 65536');
      c.linux.namespaces = c.linux.namespaces.map((n) =>
        n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n,
      );
      c.linux.namespaces.push({ type: 'user', path: `/proc/${pid}/ns/user` });
      c.linux.uidMappings = userMapping;
      c.linux.gidMappings = userMapping;
    },
  },
  // ---- config-linux.md: devices, cgroups, sysctl, seccomp, paths, propagation, personality ----
  {
    name: 'devices',
    section: 'config-linux.md#devices, #allowed-device-list',
    expect: 'accept',
    edit: (c) => {
      c.linux.devices = [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/probe-blk', type: 'b', major: 7, minor: 200, fileMode: 0o640, uid: 1000, gid: 1000 },
        { path: '/dev/probe-fifo', type: 'p', fileMode: 0o600 },
      ];
      c.linux.resources.devices.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
      c.process.args = probe('--path', '/dev/fuse', '--path', '/dev/probe-blk', '--path', '/dev/null');
    },
  },
  {
    name: 'cgroup-resources',
    section: 'config-linux.md#control-groups, #memory, #cpu, #pids',
    expect: 'accept',
    edit: (c) => {
      c.mounts.push(cgroupMount);
      Object.assign(c.linux.resources, {
        memory: { limit: 64 * MiB, reservation: 32 * MiB },
        cpu: { shares: 512, quota: 50000, period: 100000 },
        pids: { limit: 100 },
      });
      c.process.args = probeFiles(
        '/sys/fs/cgroup/',
        ['memory/memory.limit_in_bytes', 'memory/memory.soft_limit_in_bytes', 'cpu/cpu.shares'],
        ['cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'pids/pids.max', 'devices/devices.list'],
      );
    },
  },
  {
    name: 'cgroup-pids-small',
    section: 'config-linux.md#pids (a limit of 5: the init must work under it, as runc)',
    expect: 'accept',
    edit: (c) => {
      c.mounts.push(cgroupMount);
      c.linux.resources.pids = { limit: 5 };
      c.process.args = probe('--file', '/sys/fs/cgroup/pids/pids.max');
    },
  },
  ...[
    ['empty', {}],
    ['zero', { limit: 0 }],
    ['minus-one', { limit: -1 }],
  ].map(([name, pids]) => ({
    name: `cgroup-pids-${name}`,
    section: 'config-linux.md#pids (limit optional, 0 a limit, -1 max: runtime-spec 1.3)',
    expect: 'accept',
    edit: (c) => {
      c.mounts.push(cgroupMount);
      c.linux.resources.pids = pids;
      c.process.args = probe('--file', '/sys/fs/cgroup/pids/pids.max');
    },
  })),
  {
    name: 'cgroup-blockio',
    section: 'config-linux.md#block-io',
    expect: 'accept',
    edit: (c, x) => {
      c.mounts.push(cgroupMount);
      const [major, minor] = x.rootDevice.split(':').map(Number);
      c.linux.resources.blockIO = { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }] };
      c.process.args = probe('--file', '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device');
    },
  },
  {
    name: 'sysctl',
    section: 'config-linux.md#sysctl',
    expect: 'accept',
    edit: (c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1', 'net.core.somaxconn': '1000' };
      c.process.args = probeFiles('/proc/sys/', [
        'net/ipv4/ip_forward',
        'kernel/shm_rmid_forced',
        'net/core/somaxconn',
      ]);
    },
  },
  {
    name: 'sysctl-user-userns',
    section: 'config-linux.md#sysctl (user.* in a user namespace: runc 1.4)',
    expect: 'accept',
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = userMapping;
      c.linux.gidMappings = userMapping;
      c.linux.sysctl = { 'user.max_user_namespaces': '7' };
      c.process.args = probe('--file', '/proc/sys/user/max_user_namespaces');
    },
  },
  {
    name: 'seccomp',
    section: 'config-linux.md#seccomp',
    expect: 'accept',
    edit: (c) =>
      (c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [
          { names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
          { names: ['acct'], action: 'SCMP_ACT_ERRNO' },
        ],
      }),
  },
  {
    name: 'seccomp-no-new-privileges-off',
    section: 'config-linux.md#seccomp (loaded before the user switch)',
    expect: 'accept',
    edit: (c) => {
      c.process.noNewPrivileges = false;
      c.process.user = { uid: 1000, gid: 1000 };
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
      };
    },
  },
  {
    name: 'masked-readonly-paths',
    section: 'config-linux.md#masked-paths, #readonly-paths',
    expect: 'accept',
    edit: (c) => {
      c.linux.maskedPaths = ['/proc/kcore', '/etc/passwd', '/tmp', '/nonexistent-masked'];
      c.linux.readonlyPaths = ['/proc/sys', '/out', '/nonexistent-readonly'];
      c.process.args = probe('--path', '/out', '--path', '/proc/sys/kernel/shmmax');
    },
  },
  {
    name: 'no-masked-readonly-paths',
    section: 'config-linux.md#masked-paths, #readonly-paths (none)',
    expect: 'accept',
    edit: (c) => {
      delete c.linux.maskedPaths;
      delete c.linux.readonlyPaths;
    },
  },
  ...['slave', 'private', 'rslave', 'rprivate', 'shared', 'rshared', 'unbindable'].map((p) => ({
    name: `rootfs-propagation-${p}`,
    section: 'config-linux.md#rootfs-mount-propagation',
    expect: 'accept',
    edit: (c) => (c.linux.rootfsPropagation = p),
  })),
  {
    name: 'personality',
    section: 'config-linux.md#personality',
    expect: 'accept',
    edit: (c) => (c.linux.personality = { domain: 'LINUX32' }),
  },
  // ---- configs a runtime must refuse ----
  {
    name: 'bad-cwd-relative',
    section: 'config.md#process (cwd)',
    expect: 'refuse',
    edit: (c) => (c.process.cwd = 'tmp'),
  },
  { name: 'bad-cwd-absent', section: 'config.md#process (cwd)', expect: 'refuse', edit: (c) => delete c.process.cwd },
  { name: 'bad-cwd-type', section: 'config.md#process (cwd)', expect: 'refuse', edit: (c) => (c.process.cwd = 5) },
  {
    name: 'bad-args0-missing',
    section: 'config.md#process (args)',
    expect: 'refuse',
    edit: (c) => (c.process.args = ['/nonexistent']),
  },
  { name: 'bad-args-empty', section: 'config.md#process (args)', expect: 'refuse', edit: (c) => (c.process.args = []) },
  {
    name: 'bad-rlimit-type',
    section: 'config.md#process (rlimits)',
    expect: 'refuse',
    edit: (c) => c.process.rlimits.push({ type: 'RLIMIT_FOO', soft: 1, hard: 1 }),
  },
  {
    name: 'bad-rlimit-soft-above-hard',
    section: 'config.md#process (rlimits)',
    expect: 'refuse',
    edit: (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }]),
  },
  {
    name: 'bad-namespace-type',
    section: 'config-linux.md#namespaces',
    expect: 'refuse',
    edit: (c) => c.linux.namespaces.push({ type: 'foo' }),
  },
  {
    name: 'bad-namespace-duplicate',
    section: 'config-linux.md#namespaces',
    expect: 'refuse',
    edit: (c) => c.linux.namespaces.push({ type: 'pid' }),
  },
  {
    name: 'bad-namespace-path',
    section: 'config-linux.md#namespaces (path)',
    expect: 'refuse',
    edit: (c) => (c.linux.namespaces[1] = { type: 'network', path: '/nonexistent/ns/net' }),
  },
  {
    name: 'bad-mount-source',
    section: 'config.md#mounts',
    expect: 'refuse',
    edit: (c) => c.mounts.push({ destination: '/mnt/ro', type: 'bind', source: '/nonexistent', options: ['rbind'] }),
  },
  {
    name: 'bad-mount-type',
    section: 'config.md#mounts',
    expect: 'refuse',
    edit: (c) => c.mounts.push({ destination: '/mnt/ro', type: 'nosuchfs', source: 'none' }),
  },
  {
    name: 'mount-destination-relative',
    section: 'config.md#mounts (destination: relative is taken from /, runc 1.1 and spec 1.1+)',
    expect: 'accept',
    edit: (c) => c.mounts.push({ destination: 'mnt/ro', type: 'tmpfs', source: 'tmpfs' }),
  },
  {
    name: 'bad-root-missing',
    section: 'config.md#root',
    expect: 'refuse',
    edit: (c) => (c.root.path = '/nonexistent-rootfs'),
  },
  {
    name: 'bad-mappings-without-userns',
    section: 'config-linux.md#user-namespace-mappings',
    expect: 'refuse',
    edit: (c) => {
      c.linux.uidMappings = userMapping;
      c.linux.gidMappings = userMapping;
    },
  },
  {
    name: 'bad-hostname-without-uts',
    section: 'config.md#hostname',
    expect: 'refuse',
    edit: (c) => dropNs(c, 'uts'),
  },
  {
    name: 'bad-sysctl-not-namespaced',
    section: 'config-linux.md#sysctl',
    expect: 'refuse',
    edit: (c) => (c.linux.sysctl = { 'vm.swappiness': '10' }),
  },
  {
    name: 'bad-sysctl-net-host-network',
    section: 'config-linux.md#sysctl',
    expect: 'refuse',
    edit: (c) => {
      dropNs(c, 'network');
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    },
  },
  {
    name: 'bad-seccomp-action',
    section: 'config-linux.md#seccomp',
    expect: 'refuse',
    edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_NOPE' }),
  },
  {
    name: 'bad-device-type',
    section: 'config-linux.md#devices',
    expect: 'refuse',
    edit: (c) => (c.linux.devices = [{ path: '/dev/bad', type: 'x', major: 1, minor: 3 }]),
  },
];
