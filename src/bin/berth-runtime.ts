import { main } from '../runtime-cli/main.js';

const code = await main(process.argv.slice(2));
// Exit explicitly once stdout is flushed: nothing the command started should keep us alive.
process.stdout.write('', () => process.exit(code));
