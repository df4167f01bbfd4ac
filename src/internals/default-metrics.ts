/**
 * Written against prom-client 15.1.3 (see WRITTEN_AGAINST in ./written-against.ts).
 *
 * prom-client's `collectDefaultMetrics` starts two collectors that live in the process rather
 * than in the registry, and returns nothing that stops them:
 * - lib/metrics/gc.js: a `PerformanceObserver` of GC entries, never disconnected. Node keeps it in
 *   its list of observers, and through its callback everything the callback reaches: the registry
 *   and, since a function holds on to the realm it was made in, that realm. Jest loads each spec
 *   file's modules afresh, in a realm of their own, in a worker that runs many files: a relay a
 *   spec started in-process kept its spec file's whole module graph (Nest, socket.io, ioredis...)
 *   reachable until the worker ended, some 20 MB per end-to-end spec file;
 * - lib/metrics/eventLoopLag.js: an enabled `monitorEventLoopDelay` histogram, whose timer samples
 *   the event loop every 10 ms for good.
 *
 * Internals read: both files look the constructor and the function up on the `perf_hooks` module
 * object while `collectDefaultMetrics` runs (`new perf_hooks.PerformanceObserver(...)`,
 * `perf_hooks.monitorEventLoopDelay(...)`), so stand-ins put there for the length of the call
 * see what it starts.
 *
 * Contract: ./default-metrics.contract.test.ts.
 */
import perfHooks, {
  type EventLoopMonitorOptions,
  type IntervalHistogram,
  type PerformanceObserver,
  type PerformanceObserverCallback,
} from 'node:perf_hooks';
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** Node's process metrics on a registry, and what stops the collectors behind them. */
export interface DefaultMetrics {
  /** The GC observers `collectDefaultMetrics` started (one). */
  readonly observers: readonly PerformanceObserver[];
  /** The event-loop delay histograms it enabled (one). */
  readonly histograms: readonly IntervalHistogram[];
  /** Disconnects the observers and disables the histograms; the metrics stay, no longer fed. */
  stop(): void;
}

/** The members of `perf_hooks` swapped for the length of the call. */
interface PerfHooks {
  PerformanceObserver: typeof PerformanceObserver;
  monitorEventLoopDelay: (options?: EventLoopMonitorOptions) => IntervalHistogram;
}

/**
 * prom-client's default metrics (`process_*`, `nodejs_*`, under `prefix`) on `register`, with a
 * `stop` for what they leave running. Throws what `collectDefaultMetrics` throws (a name already
 * registered), after stopping what it had started by then.
 */
export function startDefaultMetrics(register: Registry, prefix: string): DefaultMetrics {
  const observers: PerformanceObserver[] = [];
  const histograms: IntervalHistogram[] = [];
  const hooks = perfHooks as unknown as PerfHooks;
  const { PerformanceObserver: Observer, monitorEventLoopDelay } = hooks;
  hooks.PerformanceObserver = class extends Observer {
    constructor(callback: PerformanceObserverCallback) {
      super(callback);
      observers.push(this);
    }
  };
  hooks.monitorEventLoopDelay = (options) => {
    const histogram = monitorEventLoopDelay(options);
    histograms.push(histogram);
    return histogram;
  };
  const stop = (): void => {
    for (const observer of observers) observer.disconnect();
    for (const histogram of histograms) histogram.disable();
  };
  try {
    collectDefaultMetrics({ register, prefix });
  } catch (error) {
    stop();
    throw error;
  } finally {
    hooks.PerformanceObserver = Observer;
    hooks.monitorEventLoopDelay = monitorEventLoopDelay;
  }
  return { observers, histograms, stop };
}
