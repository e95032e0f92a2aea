// Every command tsrun understands; each lives in its own file.
import type { CommandModule } from 'yargs';

export const commands: CommandModule<any, any>[] = [];
