/**
 * The file-copy side of the engine (`docker cp` both ways, `HEAD` stat, `docker export`) over a
 * container's root directory. Every path is resolved by the kernel inside that root (openat2
 * RESOLVE_IN_ROOT), and everything after is done on fds: see resolve.ts.
 */
export { type ArchiveResult, archivePath, exportRootfs } from './archive.js';
export { ErrExtractPointNotDirectory, ErrRootFSReadOnly, ErrVolumeReadonly, type ExtractOptions, extractArchive } from './extract.js';
export { goFileMode, rfc3339Nano } from './mode.js';
export { parseRequestPath, type RequestPath } from './paths.js';
export { encodePathStat, type PathStat, statPath } from './stat.js';
