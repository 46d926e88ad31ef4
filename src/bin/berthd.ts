import { main } from '../engine/main.js';

// No top-level await: this file is bundled as CommonJS.
void main(process.argv.slice(2));
