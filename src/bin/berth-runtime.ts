import { main } from '../runtime-cli/main.js';

// No top-level await: this file is bundled as CommonJS for a faster start.
void main(process.argv.slice(2)).then((code) => {
  // Exit explicitly once stdout is flushed: nothing the command started should keep us alive.
  process.stdout.write('', () => process.exit(code));
});
