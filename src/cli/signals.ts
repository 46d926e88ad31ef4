/**
 * Where a command hears signals. In a `berth` process they are the process's own; when the
 * command runs in berthd's CLI host (src/engine/cli-host/), the `berth` front catches them and
 * sends them over, and "dying by a signal" means telling the front to die by it.
 */
export interface SignalSource {
  on(sig: NodeJS.Signals, listener: (sig: NodeJS.Signals) => void): unknown;
  off(sig: NodeJS.Signals, listener: (sig: NodeJS.Signals) => void): unknown;
  listenerCount(sig: NodeJS.Signals): number;
  /** Ends berth as a program killed by `sig` ends (the shell sees the signal). */
  raise(sig: NodeJS.Signals): void;
}

export const processSignals: SignalSource = {
  on: (sig, listener) => process.on(sig, listener),
  off: (sig, listener) => process.off(sig, listener),
  listenerCount: (sig) => process.listenerCount(sig),
  raise: (sig) => process.kill(process.pid, sig),
};
