/**
 * Clean-up that runs however a benchmark ends: after its work (call `run` in a finally), or on
 * SIGINT, SIGTERM or SIGHUP (a user's ctrl-c during a minutes-long run, a closed terminal), or
 * when its output's reader went away (`… | head`: the next write fails with EPIPE, an error no
 * finally sees), each of which would otherwise end Node and leave a registry process, a
 * loop-mounted filesystem and its image behind. Each step runs even when an earlier one fails;
 * the steps run once.
 */
export class Cleanup {
  readonly #steps: (() => unknown)[] = [];
  #ran: Promise<void> | undefined;

  constructor() {
    const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
    for (const sig of Object.keys(codes) as (keyof typeof codes)[]) process.once(sig, () => this.#end(`${sig}: cleaning up …`, codes[sig]));
    for (const stream of [process.stdout, process.stderr])
      stream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err;
        // 141: a shell's status for a death by SIGPIPE, which is what the reader's leaving means
        this.#end(undefined, 141);
      });
  }

  #end(why: string | undefined, code: number): void {
    if (why) process.stderr.write(`${why}\n`);
    void this.run().finally(() => process.exit(code));
  }

  /** Adds a step; steps run last-added first (the reverse of setting up). */
  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  run(): Promise<void> {
    this.#ran ??= (async () => {
      for (const step of this.#steps.reverse()) {
        try {
          await step();
        } catch (err) {
          process.stderr.write(`clean-up: ${(err as Error).message}\n`);
        }
      }
    })();
    return this.#ran;
  }
}
