/**
 * Docker's output formats for the berth CLI: Go templates with Docker's functions, `table` and
 * `json` formats, the tab writer, human sizes and durations, and the per-object format contexts.
 * Commands import from here.
 */

export {
  ContainerContext,
  type ContainerFormatOptions,
  type ContainerSummary,
  containerFormat,
  containerHeader,
  containerTemplateNeedsSize,
  displayablePorts,
  formatContainers,
  type PortSummary,
} from './contexts/container.js';
export {
  type BuildCacheRecord,
  type DiskUsage,
  type DiskUsageFormatOptions,
  diskUsageFormat,
  formatDiskUsage,
} from './contexts/disk-usage.js';
export {
  formatHistory,
  HistoryContext,
  type HistoryFormatOptions,
  type HistoryItem,
  historyFormat,
  historyHeader,
} from './contexts/history.js';
export {
  formatImages,
  ImageContext,
  type ImageFormatOptions,
  type ImageSummary,
  imageFormat,
  imageHeader,
  imageRows,
} from './contexts/image.js';
export { formatStats, StatsContext, type StatsEntry, type StatsFormatOptions, statsFormat, statsHeader } from './contexts/stats.js';
export {
  formatVolumes,
  VolumeContext,
  type VolumeFormatOptions,
  type VolumeSummary,
  volumeFormat,
  volumeHeader,
} from './contexts/volume.js';
export { ellipsis } from './display.js';
export {
  chooseFormat,
  contextJSON,
  DEFAULT_QUIET_FORMAT,
  FormatContext,
  finalFormat,
  type Header,
  isJSONFormat,
  isTableFormat,
  JSON_FORMAT,
  RAW_FORMAT,
  TABLE_FORMAT,
  truncateID,
  writeFormatted,
} from './formatter.js';
export { Inspector, inspectAll } from './inspect.js';
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
