/**
 * The signals that stop the server gracefully: SIGHUP too (the terminal it runs in went away),
 * which would otherwise end it on the spot. Other signals keep Node's default action.
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Stop signals being caught; `release()` stops catching them and returns the first one caught. */
export interface HeldSignals {
  release(): StopSignal | undefined;
}

/**
 * Catches stop signals until `release()`, which returns the first one: while the server bundle
 * loads (under a second here, seconds on a loaded machine) Node's default action would end the
 * process without a word, leaving the pid file behind. Release only once other listeners are in:
 * Node drops a signal not yet dispatched when the last listener goes. Small on purpose: the
 * command line loads it without the server.
 */
export function holdStopSignals(): HeldSignals {
  let first: StopSignal | undefined;
  const hold = (signal: NodeJS.Signals): void => {
    first ??= signal as StopSignal;
  };
  for (const signal of STOP_SIGNALS) process.on(signal, hold);
  return {
    release() {
      for (const signal of STOP_SIGNALS) process.off(signal, hold);
      return first;
    },
  };
}
