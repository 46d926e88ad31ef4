/** `docker stats` output: the v28 CLI's statsContext (cli/command/container/formatter_stats.go). */
import { FormatContext, type Header, TABLE_FORMAT, truncateID, writeFormatted } from '../formatter.js';
import { formatFloat } from '../template/index.js';
import { bytesSize, humanSizeWithPrecision } from '../units.js';

/** One container's computed statistics (StatsEntry); ctr computes them from the stats stream. */
export interface StatsEntry {
  /** The name or ID the user gave (or the ID). */
  Container: string;
  /** "/name", as the stats stream names it. */
  Name: string;
  ID: string;
  CPUPercentage: number;
  Memory: number;
  MemoryLimit: number;
  MemoryPercentage: number;
  NetworkRx: number;
  NetworkTx: number;
  BlockRead: number;
  BlockWrite: number;
  PidsCurrent: number;
  /** No statistics (yet, or an error): the columns show "--". */
  IsInvalid?: boolean;
}

export const defaultStatsTableFormat =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export const statsHeader: Header = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** NewStatsFormat (Linux). */
export function statsFormat(source: string): string {
  return source === TABLE_FORMAT || source === '' ? defaultStatsTableFormat : source;
}

/** strconv.FormatFloat(v, 'f', 2, 64) + "%". */
const percentage = (v: number) => `${formatFloat(v, 'f', 2)}%`;

export class StatsContext extends FormatContext {
  static goType = '*container.statsContext';
  Header: Header = statsHeader;
  readonly #s: StatsEntry;
  readonly #trunc: boolean;

  constructor(s: StatsEntry, trunc = true) {
    super();
    this.#s = s;
    this.#trunc = trunc;
  }
  FullHeader(): Header {
    return this.Header;
  }
  Container(): string {
    return this.#s.Container;
  }
  Name(): string {
    return this.#s.Name.length > 1 ? this.#s.Name.slice(1) : '--';
  }
  ID(): string {
    return this.#trunc ? truncateID(this.#s.ID) : this.#s.ID;
  }
  CPUPerc(): string {
    return this.#s.IsInvalid ? '--' : percentage(this.#s.CPUPercentage);
  }
  MemUsage(): string {
    return this.#s.IsInvalid ? '-- / --' : `${bytesSize(this.#s.Memory)} / ${bytesSize(this.#s.MemoryLimit)}`;
  }
  MemPerc(): string {
    return this.#s.IsInvalid ? '--' : percentage(this.#s.MemoryPercentage);
  }
  NetIO(): string {
    if (this.#s.IsInvalid) return '--';
    return `${humanSizeWithPrecision(this.#s.NetworkRx, 3)} / ${humanSizeWithPrecision(this.#s.NetworkTx, 3)}`;
  }
  BlockIO(): string {
    if (this.#s.IsInvalid) return '--';
    return `${humanSizeWithPrecision(this.#s.BlockRead, 3)} / ${humanSizeWithPrecision(this.#s.BlockWrite, 3)}`;
  }
  PIDs(): string {
    return this.#s.IsInvalid ? '--' : String(this.#s.PidsCurrent);
  }
}

export interface StatsFormatOptions {
  format?: string;
  noTrunc?: boolean;
}

/** One frame of docker stats output. */
export function formatStats(list: readonly StatsEntry[], opts: StatsFormatOptions = {}): string {
  const trunc = !opts.noTrunc;
  return writeFormatted(
    statsFormat(opts.format ?? ''),
    list.map((s) => new StatsContext(s, trunc)),
    statsHeader,
  );
}
