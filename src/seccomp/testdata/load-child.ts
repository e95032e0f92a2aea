// Run by load.test.ts in its own node process: loads the filter given in
// argv[2] (JSON of CompiledSeccomp) on the main thread, then makes the calls
// named in argv[3] through koffi on that same thread and prints the results.
import { writeSync } from 'node:fs';
import { libc, lastErrno, errnoName } from '../../sys/libc';
import { loadSeccomp } from '../load';

const mkdir = libc.func('int mkdir(const char *path, uint32_t mode)');
const personality = libc.func('int personality(unsigned long persona)');

const compiled = JSON.parse(process.argv[2]);
const calls = JSON.parse(process.argv[3]) as [string, string | number][];
const notifyState = process.argv[4] ? { state: JSON.parse(process.argv[4]) } : undefined;
loadSeccomp(compiled, notifyState);
const results: string[] = [];
for (const [fn, arg] of calls) {
  const ret = fn === 'mkdir' ? mkdir(arg as string, 0o755) : personality(arg as number);
  results.push(ret < 0 ? errnoName(lastErrno()) : `ok ${ret}`);
}
writeSync(1, JSON.stringify(results) + '\n');
