import { main } from '../runtime-cli/main.js';

// No top-level await: this file is bundled as CommonJS for a faster start.
// Exit explicitly: nothing the command started should keep us alive. Writes to stdout and
// stderr are synchronous on Linux (files, pipes and terminals alike), so nothing is lost; and
// touching process.stdout here would build the stream only to flush nothing.
void main(process.argv.slice(2)).then((code) => process.exit(code));
