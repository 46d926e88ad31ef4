/**
 * Berth's version and commit for the API (`Server` header, `/version`): set by the bundler
 * (scripts/bundle.mjs defines BERTH_VERSION and BERTH_COMMIT); from package.json when run from
 * source.
 */
import { readFileSync } from 'node:fs';

declare const BERTH_VERSION: string | undefined;
declare const BERTH_COMMIT: string | undefined;

function fromPackage(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0-dev';
  } catch {
    return '0.0.0-dev';
  }
}

export const BERTH_VERSION_STRING: string = typeof BERTH_VERSION === 'string' ? BERTH_VERSION : fromPackage();
export const BERTH_COMMIT_STRING: string = typeof BERTH_COMMIT === 'string' ? BERTH_COMMIT : '';
