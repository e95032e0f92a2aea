// Test fixture: applies process attributes on this node process's main
// thread, the way the container init does, then reports what the kernel
// shows for this process and for a program it executes.
import { readFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { applyRlimits } from '../rlimits';
import { applyOomScoreAdj } from '../oom-score';
import { applyUser, applyNoNewPrivileges } from '../credentials';

const plan = JSON.parse(process.argv[2]);
const report: Record<string, unknown> = {};
try {
  applyRlimits(plan.rlimits);
  applyOomScoreAdj(plan.oomScoreAdj);
  if (plan.user) applyUser(plan.user, plan.capabilities);
  applyNoNewPrivileges(plan.noNewPrivileges);
  report.status = readFileSync('/proc/self/status', 'utf8');
  report.limits = readFileSync('/proc/self/limits', 'utf8');
  report.oomScoreAdj = readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
  // A program executed from this (main) thread: what survives execve.
  const exec = spawnSync('/bin/cat', ['/proc/self/status'], { encoding: 'utf8' });
  report.execStatus = exec.stdout;
  report.execError = exec.error?.message ?? exec.stderr;
} catch (err) {
  report.error = (err as Error).message;
}
writeSync(1, JSON.stringify(report));
