/** berth's own version, for `berth --version` and `berth version`. */
import { BERTH_COMMIT_STRING, BERTH_VERSION_STRING } from '../api/version.js';

declare const BERTH_BUILT: string | undefined;

export const CLIENT_VERSION = BERTH_VERSION_STRING;
export const CLIENT_COMMIT = BERTH_COMMIT_STRING.slice(0, 7);
/** When the bundle was built (scripts/bundle.mjs defines it); empty when run from source. */
export const CLIENT_BUILT: string = typeof BERTH_BUILT === 'string' ? BERTH_BUILT : '';
export const BERTH_VERSION_LINE = `Berth version ${CLIENT_VERSION}${CLIENT_COMMIT ? `, build ${CLIENT_COMMIT}` : ''}`;
