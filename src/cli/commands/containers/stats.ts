/**
 * `berth stats`: each container's resource use, as docker shows it. One stats stream per
 * container (`GET /containers/{id}/stats`, `stream=0` with `--no-stream`), the rows computed by
 * stats-calc.ts; without names, the running containers (all with `-a`), kept up to date from
 * the container events while streaming. Streaming redraws every 500 ms: on a terminal in place
 * (cursor home, each line erased to its end, the rest of the screen cleared), otherwise one
 * plain table after the other. A row without a sample for 2 s shows `--`.
 */

import { eventsStream, jsonValues } from '../../../client/streams.js';
import type { EngineClient } from '../../../client/types.js';
import { formatStats } from '../../format/index.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { containerPath, errorText } from './each.js';
import { readConfigJson } from './prune.js';
import { type ApiStats, emptyEntry, type StatsEntry, statsEntry } from './stats-calc.js';

/** docker's collector gives up on a sample after this long and blanks the row. */
const SAMPLE_TIMEOUT_MS = 2000;
const REDRAW_MS = 500;

interface Tracked {
  entry: StatsEntry;
  error: unknown;
  first: Promise<void>;
  stop(): void;
}

/** Starts collecting one container's stats; `first` settles with the first sample, error or timeout. */
function track(client: EngineClient, key: string, stream: boolean): Tracked {
  // Stopping destroys the response (an aborted signal would error the pooled socket instead).
  let stopped = false;
  let response: import('node:http').IncomingMessage | undefined;
  let markFirst!: () => void;
  const t: Tracked = {
    entry: emptyEntry(key),
    error: undefined,
    first: new Promise<void>((r) => {
      markFirst = r;
    }),
    stop: () => {
      stopped = true;
      response?.destroy();
    },
  };
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // SetErrorAndReset: zeroes, and `--` in the row
      t.entry = { ...emptyEntry(key), Name: t.entry.Name, ID: t.entry.ID, IsInvalid: true };
      t.error = new Error('timeout waiting for stats');
      markFirst();
    }, SAMPLE_TIMEOUT_MS);
    timer.unref();
  };
  (async () => {
    arm();
    try {
      const res = await client.stream('GET', containerPath(key, '/stats'), { query: { stream: stream ? '1' : '0' } });
      response = res;
      res.on('error', () => {});
      if (stopped) res.destroy();
      for await (const v of jsonValues(res)) {
        t.entry = statsEntry(key, v as ApiStats);
        t.error = undefined;
        markFirst();
        if (!stream) break;
        arm();
      }
      if (stream && !stopped) {
        // the stream ended (the container stopped): the row keeps its name and shows `--`
        t.entry = { ...t.entry, IsInvalid: true };
        t.error = new Error('EOF');
      }
    } catch (err) {
      if (!stopped) {
        t.error = err;
        t.entry = { ...t.entry, IsInvalid: true };
      }
    } finally {
      clearTimeout(timer);
      markFirst();
    }
  })();
  return t;
}

/** The frame written on a terminal: in place, each line erased to its end, the rest cleared. */
export function redrawFrame(table: string): string {
  const lines = table.endsWith('\n') ? table.slice(0, -1).split('\n') : table.split('\n');
  return `\x1b[H${lines.map((l) => `${l}\x1b[K\n`).join('')}\x1b[J`;
}

export const statsCommand: CommandSpec = {
  name: 'stats',
  usage: 'stats [OPTIONS] [CONTAINER...]',
  short: 'Display a live stream of container(s) resource usage statistics',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Show all containers (default shows just running)' },
    {
      name: 'format',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    { name: 'no-stream', kind: 'bool', usage: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', kind: 'bool', usage: 'Do not truncate output' },
  ],
  topLevel: 'stats',
  async run(ctx, inv) {
    const all = inv.flags.bool('all');
    const stream = !inv.flags.bool('no-stream');
    const trunc = !inv.flags.bool('no-trunc');
    let format = inv.flags.string('format');
    if (!format) {
      const fromConfig = readConfigJson(ctx.configDir).statsFormat;
      format = typeof fromConfig === 'string' && fromConfig ? fromConfig : 'table';
    }
    // a bad template fails before any request, as docker's does once it has its first samples
    formatStats([], { format });
    const client = await ctx.client();
    const showAll = inv.args.length === 0;
    const tracked = new Map<string, Tracked>();
    const add = (key: string) => {
      if (!tracked.has(key)) tracked.set(key, track(client, key, stream));
    };
    let stopEvents = () => {};
    const stopAll = () => {
      stopEvents();
      for (const t of tracked.values()) t.stop();
    };
    try {
      if (showAll) {
        if (stream)
          stopEvents = await followEvents(ctx, client, all, add, (key) => {
            tracked.get(key)?.stop();
            tracked.delete(key);
          });
        const list = await client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: all ? '1' : undefined } });
        for (const c of list.body ?? []) add(c.Id.slice(0, 12));
        await Promise.all([...tracked.values()].map((t) => t.first));
      } else {
        for (const name of inv.args) add(name);
        await Promise.all([...tracked.values()].map((t) => t.first));
        const errors = [...tracked.values()].filter((t) => t.error !== undefined).map((t) => errorText(t.error));
        if (errors.length > 0) throw new CliError(errors.join('\n'));
      }
      const table = () =>
        formatStats(
          [...tracked.values()].map((t) => t.entry),
          { format, noTrunc: !trunc },
        );
      if (!stream) {
        ctx.stdout.write(table());
        return 0;
      }
      const tty = ctx.stdout.isTTY === true;
      let closed = false;
      ctx.stdout.once('error', () => {
        closed = true;
      });
      for (;;) {
        await new Promise((r) => setTimeout(r, REDRAW_MS));
        if (closed) return 0;
        const text = table();
        ctx.stdout.write(tty ? redrawFrame(text) : text);
        if (tracked.size === 0 && !showAll) return 0;
      }
    } finally {
      stopAll();
    }
  },
};

/** Subscribes to container events (before the list is read, so no start is missed). */
async function followEvents(
  ctx: CliContext,
  client: EngineClient,
  all: boolean,
  add: (key: string) => void,
  remove: (key: string) => void,
): Promise<() => void> {
  const res = await client.stream('GET', '/events', { query: { filters: JSON.stringify({ type: { container: true } }) } });
  let stopped = false;
  res.on('error', () => {});
  (async () => {
    try {
      for await (const e of eventsStream(res)) {
        const id = (e.Actor?.ID ?? e.id ?? '').slice(0, 12);
        if (!id) continue;
        if (e.Action === 'create' && all) add(id);
        else if (e.Action === 'start') add(id);
        else if (e.Action === 'die' && !all) remove(id);
      }
    } catch (err) {
      if (!stopped) ctx.stderr.write(`${errorText(err)}\n`);
    }
  })();
  return () => {
    stopped = true;
    res.destroy();
  };
}
