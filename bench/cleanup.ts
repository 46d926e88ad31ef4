/**
 * Clean-up that runs however a benchmark ends: after its work (call `run` in a finally), or on
 * SIGINT or SIGTERM (a user's ctrl-c during a minutes-long run), which would otherwise end Node
 * before any finally and leave a registry process, a loop-mounted filesystem and its image
 * behind. Each step runs even when an earlier one fails; the steps run once.
 */
export class Cleanup {
  readonly #steps: (() => unknown)[] = [];
  #ran: Promise<void> | undefined;

  constructor() {
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        process.stderr.write(`${sig}: cleaning up …\n`);
        void this.run().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
      });
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
