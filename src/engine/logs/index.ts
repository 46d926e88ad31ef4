/**
 * Container logs, the reader side (`docker logs`, attach with `logs=1`): berth-shim writes
 * Docker's json-file format (native/shim/log.c, docs/shim-protocol.md "The log"); this reads it.
 */
export { decodeEntry, type LogEntry, type LogStream, parseRfc3339 } from './entry.js';
export { type LogFileHandle, type LogFileSystem, logUsage, nodeLogFs, openLogFiles, removeLogs } from './files.js';
export { formatLogEntry, type LogFormat } from './format.js';
export { type LogsQuery, type LogsQuerySource, parseLogsQuery } from './query.js';
export { type ReadLogsOptions, readLogs } from './read.js';
export { formatDockerTime, parseSince, parseTail, parseTimestamp, parseUntil } from './time.js';
