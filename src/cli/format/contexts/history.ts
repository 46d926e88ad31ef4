/** `docker history` output: the v28 CLI's historyContext (cli/command/formatter/history.go). */
import { ellipsis } from '../display.js';
import { DEFAULT_QUIET_FORMAT, FormatContext, type Header, TABLE_FORMAT, truncateID, writeFormatted } from '../formatter.js';
import { humanSizeWithPrecision, rfc3339, timeAgo } from '../units.js';

/** An entry of GET /images/{name}/history. */
export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

export const defaultHistoryTableFormat = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const nonHumanHistoryTableFormat = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export const historyHeader: Header = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** NewHistoryFormat. */
export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === TABLE_FORMAT || source === '') {
    if (quiet) return DEFAULT_QUIET_FORMAT;
    return human ? defaultHistoryTableFormat : nonHumanHistoryTableFormat;
  }
  return source;
}

export class HistoryContext extends FormatContext {
  static goType = '*formatter.historyContext';
  Header: Header = historyHeader;
  readonly #h: HistoryItem;
  readonly #trunc: boolean;
  readonly #human: boolean;
  readonly #now: number;

  constructor(h: HistoryItem, trunc = true, human = true, now = Date.now()) {
    super();
    this.#h = h;
    this.#trunc = trunc;
    this.#human = human;
    this.#now = now;
  }
  FullHeader(): Header {
    return this.Header;
  }
  ID(): string {
    return this.#trunc ? truncateID(this.#h.Id) : this.#h.Id;
  }
  CreatedAt(): string {
    return rfc3339(this.#h.Created);
  }
  CreatedSince(): string {
    return this.#human ? timeAgo(this.#h.Created, this.#now) : this.CreatedAt();
  }
  CreatedBy(): string {
    const createdBy = this.#h.CreatedBy.replaceAll('\t', ' ');
    return this.#trunc ? ellipsis(createdBy, 45) : createdBy;
  }
  Size(): string {
    return this.#human ? humanSizeWithPrecision(this.#h.Size, 3) : String(this.#h.Size);
  }
  Comment(): string {
    return this.#h.Comment;
  }
}

export interface HistoryFormatOptions {
  format?: string;
  quiet?: boolean;
  noTrunc?: boolean;
  /** --human (default true) */
  human?: boolean;
  now?: number;
}

/** docker history output for GET /images/{name}/history. */
export function formatHistory(list: readonly HistoryItem[], opts: HistoryFormatOptions = {}): string {
  const human = opts.human ?? true;
  const format = historyFormat(opts.format ?? '', opts.quiet ?? false, human);
  const trunc = !opts.noTrunc;
  const now = opts.now ?? Date.now();
  return writeFormatted(
    format,
    list.map((h) => new HistoryContext(h, trunc, human, now)),
    historyHeader,
  );
}
