// The rename-token lock (lock.ts) between real processes: Bun children run
// the same module. Mutual exclusion under contention, a holder's death
// (SIGKILL) releasing it, and a directory without a token.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { heldName, holderAlive, releaseLock, takeLock } from './lock';

const BUN = resolve(__dirname, '../../node_modules/.bin/bun');
const LOCK = resolve(__dirname, 'lock.ts');

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-lock-'));
  writeFileSync(join(dir, 'lock'), '');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A Bun process running `body` with takeLock/releaseLock and `dir` in scope. */
function child(dir: string, body: string) {
  const code = `import { takeLock, releaseLock } from ${JSON.stringify(LOCK)};
import * as fs from 'node:fs';
const dir = process.env.LOCK_DIR;
${body}`;
  return spawn(BUN, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOCK_DIR: dir } });
}

const exited = (c: ReturnType<typeof spawn>) => new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
const said = (c: ReturnType<typeof spawn>, word: string) =>
  new Promise<void>((r) => c.stdout!.on('data', (d: Buffer) => d.toString().includes(word) && r()));

t.test('one holder at a time among contending processes', async (t) => {
  const dir = freshDir();
  writeFileSync(join(dir, 'count'), '0');
  // A read-modify-write with a pause inside, and a marker that two holders at once would collide on.
  const body = `for (let i = 0; i < 25; i++) {
  takeLock(dir);
  fs.writeFileSync(dir + '/inside', '', { flag: 'wx' });
  const n = Number(fs.readFileSync(dir + '/count', 'utf8'));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0.3);
  fs.writeFileSync(dir + '/count', String(n + 1));
  fs.unlinkSync(dir + '/inside');
  releaseLock(dir);
}`;
  const codes = await Promise.all([1, 2, 3, 4].map(() => exited(child(dir, body))));
  t.same(codes, [0, 0, 0, 0], 'no process found another inside');
  t.equal(readFileSync(join(dir, 'count'), 'utf8'), '100', 'no update lost');
  t.same(readdirSync(dir).sort(), ['count', 'lock'], 'the token is free again, under its name');
});

t.test('a holder killed with SIGKILL does not keep the lock', async (t) => {
  const dir = freshDir();
  const holder = child(dir, `takeLock(dir); console.log('held'); setInterval(() => {}, 1000);`);
  const holderGone = exited(holder);
  await said(holder, 'held');
  t.equal(holderAlive(dir), true, 'held by a live process');
  const waiter = child(dir, `takeLock(dir); console.log('got');`);
  const waiterDone = exited(waiter);
  let got = false;
  const gotIt = said(waiter, 'got').then(() => (got = true));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(got, 'a live holder keeps it');
  holder.kill('SIGKILL');
  await gotIt;
  t.equal(await waiterDone, 0);
  // The waiter exits holding it: the one token now carries its name, the dead holder's is gone.
  t.match(readdirSync(dir), [new RegExp(`^lock\\.${waiter.pid}\\.\\d+$`)], 'taken over once the holder died');
  t.equal(readdirSync(dir).length, 1, 'one token, not two');
  await holderGone;
});

t.test('this process: take, release, refuse to take twice', async (t) => {
  const dir = freshDir();
  takeLock(dir);
  t.same(readdirSync(dir), [heldName()], 'the token carries our name');
  t.throws(() => takeLock(dir), /already holds/, 'a second take would wait forever: refused');
  releaseLock(dir);
  t.same(readdirSync(dir), ['lock'], 'free again');
  t.equal(holderAlive(dir), undefined, 'nobody holds it');
});

t.test('a dead holder found by its name (pid and start time)', async (t) => {
  const dir = freshDir();
  // A process that existed and is gone: its pid with a start time no live process has.
  const gone = spawnSync('true').pid!;
  rmSync(join(dir, 'lock'));
  writeFileSync(join(dir, `lock.${gone}.1`), '');
  t.equal(holderAlive(dir), false);
  takeLock(dir);
  t.same(readdirSync(dir), [heldName()], 'taken over');
  releaseLock(dir);
});

t.test('a directory without a token gets one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'sub'));
  takeLock(dir);
  t.same(readdirSync(dir).sort(), [heldName(), 'sub'].sort());
  releaseLock(dir);
});

t.test('a missing directory: ENOENT', async (t) => {
  t.throws(() => takeLock(join(tmpdir(), 'tsrun-lock-none', 'x')), { code: 'ENOENT' });
});
