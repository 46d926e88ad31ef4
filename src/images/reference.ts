/** Reference parsing is the registry client's (Docker's rules); re-exported for the image side. */
export { parseReference } from '../distribution/reference.js';
