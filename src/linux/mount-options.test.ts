import t from 'tap';
import { parseMountOptions, propagationFlag, knownMountOptions } from './mount-options';
import { MS, MOUNT_ATTR } from '../sys/mount';

t.test('flags set and clear in order; unknown options become data', (t) => {
  const p = parseMountOptions(['ro', 'nosuid', 'nodev', 'rw', 'size=64m', 'mode=755', 'noexec', 'exec', 'strictatime']);
  t.equal(p.flags, MS.NOSUID | MS.NODEV | MS.STRICTATIME);
  t.equal(p.data, 'size=64m,mode=755');
  t.same(p.propagation, []);
  t.equal(p.tmpcopyup, false);
  t.end();
});

t.test('every flag option', (t) => {
  const cases: [string, number][] = [
    ['ro', MS.RDONLY],
    ['nosuid', MS.NOSUID],
    ['nodev', MS.NODEV],
    ['noexec', MS.NOEXEC],
    ['sync', MS.SYNCHRONOUS],
    ['dirsync', MS.DIRSYNC],
    ['remount', MS.REMOUNT],
    ['mand', MS.MANDLOCK],
    ['noatime', MS.NOATIME],
    ['nodiratime', MS.NODIRATIME],
    ['relatime', MS.RELATIME],
    ['strictatime', MS.STRICTATIME],
    ['bind', MS.BIND],
    ['rbind', MS.BIND | MS.REC],
    ['nosymfollow', MS.NOSYMFOLLOW],
  ];
  for (const [opt, flag] of cases) t.equal(parseMountOptions([opt]).flags, flag, opt);
  const clears: [string, string][] = [
    ['rw', 'ro'],
    ['suid', 'nosuid'],
    ['dev', 'nodev'],
    ['exec', 'noexec'],
    ['async', 'sync'],
    ['nomand', 'mand'],
    ['atime', 'noatime'],
    ['diratime', 'nodiratime'],
    ['norelatime', 'relatime'],
    ['nostrictatime', 'strictatime'],
    ['symfollow', 'nosymfollow'],
  ];
  for (const [clear, set] of clears) t.equal(parseMountOptions([set, clear]).flags, 0, `${clear} clears ${set}`);
  t.equal(parseMountOptions(['defaults']).flags, 0);
  t.end();
});

t.test('propagation options keep their order', (t) => {
  t.same(
    parseMountOptions(['rprivate', 'shared', 'rslave', 'unbindable', 'runbindable', 'private', 'slave', 'rshared'])
      .propagation,
    [
      MS.PRIVATE | MS.REC,
      MS.SHARED,
      MS.SLAVE | MS.REC,
      MS.UNBINDABLE,
      MS.UNBINDABLE | MS.REC,
      MS.PRIVATE,
      MS.SLAVE,
      MS.SHARED | MS.REC,
    ],
  );
  t.equal(propagationFlag('rslave'), MS.SLAVE | MS.REC);
  t.equal(propagationFlag('shared'), MS.SHARED);
  t.equal(propagationFlag('bogus'), undefined);
  t.end();
});

t.test('recursive attributes', (t) => {
  const all =
    MOUNT_ATTR.RDONLY |
    MOUNT_ATTR.NOSUID |
    MOUNT_ATTR.NODEV |
    MOUNT_ATTR.NOEXEC |
    MOUNT_ATTR.NODIRATIME |
    MOUNT_ATTR.NOSYMFOLLOW;
  let p = parseMountOptions(['rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnodiratime', 'rnosymfollow']);
  t.equal(p.recAttrSet, all);
  t.equal(p.recAttrClr, 0);
  p = parseMountOptions(['rro', 'rnosymfollow', 'rrw', 'rsuid', 'rdev', 'rexec', 'rdiratime', 'rsymfollow']);
  t.equal(p.recAttrSet, 0, 'a later clear cancels the set');
  t.equal(p.recAttrClr, all);
  // access time is an enum: attr_clr must hold the whole mask (mount_setattr(2))
  const atime: [string, number][] = [
    ['rnoatime', MOUNT_ATTR.NOATIME],
    ['rstrictatime', MOUNT_ATTR.STRICTATIME],
    ['rrelatime', MOUNT_ATTR.RELATIME],
    ['ratime', MOUNT_ATTR.RELATIME],
    ['rnostrictatime', MOUNT_ATTR.RELATIME],
    ['rnorelatime', MOUNT_ATTR.STRICTATIME],
  ];
  for (const [opt, mode] of atime) {
    p = parseMountOptions(['rnoatime', opt]);
    t.equal(p.recAttrSet & MOUNT_ATTR.ATIME_MASK, mode, `${opt} selects its mode (last wins)`);
    t.equal(p.recAttrClr & MOUNT_ATTR.ATIME_MASK, MOUNT_ATTR.ATIME_MASK, `${opt} clears the whole atime mask`);
  }
  t.equal(parseMountOptions(['rro']).flags, 0, 'recursive options are not mount(2) flags');
  t.equal(parseMountOptions(['rro']).data, '', 'nor data');
  t.end();
});

t.test('idmap and ridmap ask for a mapping, ridmap on every submount', (t) => {
  t.equal(parseMountOptions(['rbind']).idmap, '');
  t.equal(parseMountOptions(['rbind', 'idmap']).idmap, 'idmap');
  t.equal(parseMountOptions(['ridmap', 'rbind']).idmap, 'ridmap');
  t.equal(parseMountOptions(['ridmap', 'idmap']).idmap, 'ridmap', 'the recursive one wins');
  t.equal(parseMountOptions(['idmap', 'ro']).data, '', 'never passed to mount(2)');
  t.end();
});

t.test('tmpcopyup is an extension, not data', (t) => {
  const p = parseMountOptions(['tmpcopyup', 'mode=1777']);
  t.equal(p.tmpcopyup, true);
  t.equal(p.data, 'mode=1777');
  t.end();
});

t.test("every option of the spec's table is known, none is passed on as data", (t) => {
  // config.md, "Linux mount options" (runtime-spec v1.2).
  const spec = [
    'async',
    'atime',
    'bind',
    'defaults',
    'dev',
    'diratime',
    'dirsync',
    'exec',
    'idmap',
    'iversion',
    'lazytime',
    'loud',
    'mand',
    'noatime',
    'nodev',
    'nodiratime',
    'noexec',
    'noiversion',
    'nolazytime',
    'nomand',
    'norelatime',
    'nostrictatime',
    'nosuid',
    'nosymfollow',
    'private',
    'ratime',
    'rbind',
    'rdev',
    'rdiratime',
    'relatime',
    'remount',
    'rexec',
    'ridmap',
    'rnoatime',
    'rnodiratime',
    'rnoexec',
    'rnorelatime',
    'rnostrictatime',
    'rnosuid',
    'rnosymfollow',
    'ro',
    'rprivate',
    'rrelatime',
    'rro',
    'rrw',
    'rshared',
    'rslave',
    'rstrictatime',
    'rsuid',
    'rsymfollow',
    'runbindable',
    'rw',
    'shared',
    'silent',
    'slave',
    'strictatime',
    'suid',
    'symfollow',
    'sync',
    'tmpcopyup',
    'unbindable',
  ];
  for (const o of spec) t.equal(parseMountOptions([o]).data, '', o);
  // The table lists rdev but not its opposite rnodev, which runc knows too.
  t.same(knownMountOptions(), [...spec, 'rnodev'].sort(), 'knownMountOptions lists exactly these');
  t.end();
});
