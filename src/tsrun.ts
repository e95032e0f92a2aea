// The executable's entry point. One file, two roles: the native helper enters
// it as `tsrun init <sync fd>` to become a container's init (a hidden
// subcommand, as runc's `runc init`); anything else is the CLI. Each role
// evaluates only its own modules.
import './log/phase'; // first: its load is the first line of JavaScript (the "js" mark)
import { writeSync } from 'node:fs';
import { INIT_COMMAND, Msg, encodeMessage } from './protocol/messages';

/**
 * A failure while a role's modules load (the roles report their own errors
 * after that): the init's goes to its parent over the sync socket (a line of
 * protocol/messages.ts), which logs it; the CLI's to fd 2.
 */
function loadFailed(e: unknown, syncFd?: number): never {
  const msg = e instanceof Error ? e.message : String(e);
  try {
    if (syncFd !== undefined) writeSync(syncFd, encodeMessage({ type: Msg.Error, msg: `container init: ${msg}` }));
    else writeSync(2, `tsrun: ${msg}\n`);
  } catch {
    // nobody to tell: the exit code says it
  }
  process.exit(1);
}

const args = process.argv.slice(2);
if (args[0] === INIT_COMMAND)
  import('./init/main').then(
    (m) => m.runInit(args.slice(1)),
    (e) => loadFailed(e, Number(args[1])),
  );
else import('./cli/main').catch((e) => loadFailed(e));
