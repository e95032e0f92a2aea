// Test fixture: sets up the console exactly as the init does (console socket
// on fd 3), reports what it sees on fd 4, then talks through the terminal.
import { existsSync, readFileSync, readSync, statSync, fstatSync, writeSync, closeSync } from 'node:fs';
import { setupConsole } from '../terminal';
import { getWinsize } from '../../sys/tty';

const size = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
const opts = process.argv[3] ? JSON.parse(process.argv[3]) : undefined;
setupConsole(3, size, opts);
let socketClosed = false;
try {
  fstatSync(3);
} catch {
  socketClosed = true;
}
const stat = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
const report = {
  pid: process.pid,
  sid: Number(stat[3]), // field 6 of /proc/pid/stat
  ttyNr: Number(stat[4]), // field 7
  consoleRdev: existsSync('/dev/console') ? statSync('/dev/console').rdev : null,
  stdio: [0, 1, 2].map((fd) => fstatSync(fd).rdev),
  winsize: getWinsize(1),
  socketClosed,
};
writeSync(4, JSON.stringify(report));
closeSync(4);
writeSync(1, 'hello from the container\n');
const buf = Buffer.alloc(256);
const n = readSync(0, buf);
writeSync(2, `got:${buf.toString('utf8', 0, n).trim()}\n`);
