/**
 * Docker's output formats for the berth CLI: Go templates with Docker's functions, `table` and
 * `json` formats, the tab writer, human sizes and durations, and the per-object format contexts.
 * Commands import from here.
 */

export { stringWidth, tabwrite } from './tabwriter.js';
export {
  type FuncMap,
  GoFloat,
  type GoFunc,
  goJSON,
  type MissingKey,
  renderTemplate,
  sprintf,
  Template,
  TemplateExecError,
  type TemplateOptions,
  TemplateParseError,
} from './template/index.js';
export {
  bytesSize,
  containerStatus,
  DurationError,
  formatDuration,
  fromHumanSize,
  goTimeString,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  parseDuration,
  ramInBytes,
  rfc3339,
  SizeError,
  type StatusState,
  timeAgo,
} from './units.js';
