// runtime.md — State.
import fs from 'node:fs';
import { assert, deepEq, eq, fail, mustSucceed } from '../lib/check.mjs';
import { sh } from '../lib/config.mjs';
import { alive } from '../lib/host.mjs';

const SPEC = 'runtime.md#state';

async function created(t, mutate) {
  const b = t.bundle();
  b.config.process.args = ['/bin/sleep', '1000'];
  if (mutate) mutate(b);
  const c = t.create(b);
  if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
  return b;
}

export const clauses = [
  {
    id: 'state.ociVersion',
    spec: SPEC,
    quote:
      'ociVersion (string, REQUIRED) is version of the Open Container Initiative Runtime Specification with which the state complies.',
    async run(t) {
      const b = await created(t);
      const s = t.state(b.id);
      assert(s, 'state failed');
      assert(
        typeof s.ociVersion === 'string' && /^\d+\.\d+\.\d+/.test(s.ociVersion),
        `ociVersion ${JSON.stringify(s.ociVersion)} is not a SemVer string`,
      );
    },
  },
  {
    id: 'state.id',
    spec: SPEC,
    quote: "id (string, REQUIRED) is the container's ID. This MUST be unique across all containers on this host.",
    async run(t) {
      const b = await created(t);
      eq(t.state(b.id)?.id, b.id, 'state.id');
    },
  },
  {
    id: 'state.status.created',
    spec: SPEC,
    quote:
      'created: the container has finished the create operation ... and the user-specified program has not yet been executed',
    async run(t) {
      const b = await created(t);
      eq(t.state(b.id)?.status, 'created', 'status after create');
    },
  },
  {
    id: 'state.status.running',
    spec: SPEC,
    quote: 'running: the container process has executed the user-specified program but has not exited',
    async run(t) {
      const b = await created(t);
      mustSucceed(t.start(b.id), 'start');
      eq(t.state(b.id)?.status, 'running', 'status after start');
    },
  },
  {
    id: 'state.status.stopped',
    spec: SPEC,
    quote: 'stopped: the container process has exited',
    async run(t) {
      const b = await created(t, (b) => (b.config.process.args = ['/bin/true']));
      mustSucceed(t.start(b.id), 'start');
      await t.waitStatus(b.id, 'stopped');
    },
  },
  {
    id: 'state.pid',
    spec: SPEC,
    quote:
      'pid (int, REQUIRED when status is created or running on Linux, OPTIONAL on other platforms) is the ID of the container process.',
    async run(t) {
      const b = await created(t);
      const s1 = t.state(b.id);
      assert(Number.isInteger(s1?.pid) && s1.pid > 0, `created: pid ${JSON.stringify(s1?.pid)}`);
      assert(alive(s1.pid), `created: pid ${s1.pid} is not a live process`);
      const pidFile = Number(fs.readFileSync(`${b.dir}/pid`, 'utf8'));
      eq(pidFile, s1.pid, '--pid-file contents vs state.pid');
      mustSucceed(t.start(b.id), 'start');
      const s2 = t.state(b.id);
      eq(s2?.pid, s1.pid, 'running: pid');
      const cmdline = fs.readFileSync(`/proc/${s2.pid}/cmdline`, 'utf8').split('\0');
      eq(cmdline[0], '/bin/sleep', 'argv[0] of the container process (state.pid) after start');
    },
  },
  {
    id: 'state.bundle',
    spec: SPEC,
    quote: "bundle (string, REQUIRED) is the absolute path to the container's bundle directory.",
    async run(t) {
      const b = await created(t);
      eq(t.state(b.id)?.bundle, fs.realpathSync(b.dir), 'state.bundle');
    },
  },
  {
    id: 'state.annotations',
    spec: SPEC,
    quote: 'annotations (map, OPTIONAL) contains the list of annotations associated with the container.',
    async run(t) {
      const ann = { 'org.example.key': 'value', 'com.example.other': 'x y z' };
      const b = await created(t, (b) => (b.config.annotations = ann));
      const s = t.state(b.id);
      deepEq(s?.annotations, ann, 'state.annotations');
    },
  },
  {
    id: 'state.annotations.absent',
    spec: SPEC,
    quote: 'If no annotations were provided then this property MAY either be absent or an empty map.',
    async run(t) {
      const b = await created(t);
      const s = t.state(b.id);
      assert(s, 'state failed');
      assert(
        s.annotations === undefined || (s.annotations && Object.keys(s.annotations).length === 0),
        `annotations ${JSON.stringify(s.annotations)}`,
      );
    },
  },
  {
    id: 'state.status.running-to-stopped-on-exit',
    spec: 'runtime.md#lifecycle',
    quote:
      "10. The container process exits. This MAY happen due to erroring out, exiting, crashing or the runtime's kill operation being invoked.",
    async run(t) {
      const b = await created(t, (b) => (b.config.process.args = sh('sleep 0.3; exit 3')));
      mustSucceed(t.start(b.id), 'start');
      eq(t.state(b.id)?.status, 'running', 'status while the process runs');
      await t.waitStatus(b.id, 'stopped');
    },
  },
];
