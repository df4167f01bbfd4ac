/**
 * Contract of ./default-metrics.ts with prom-client 15.1.3: the stand-ins put on `perf_hooks` see
 * the GC observer and the event-loop delay histogram that `collectDefaultMetrics` starts, and
 * `stop` stops them. A failure means prom-client starts them some other way now; re-read its
 * lib/metrics/gc.js and lib/metrics/eventLoopLag.js before changing the module.
 */
import { describe, expect, it } from '@jest/globals';
import perfHooks from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { waitUntil } from '../../test/support/ports.js';
import { startDefaultMetrics } from './default-metrics.js';
import { versionMismatch } from './written-against.js';

const GC_DURATION = 'test_nodejs_gc_duration_seconds';

/** Garbage collections the registry's GC histogram has counted, of every kind. */
async function collections(registry: Registry): Promise<number> {
  const metric = registry.getSingleMetric(GC_DURATION);
  if (!metric) throw new Error(`${GC_DURATION} is not registered`);
  // A histogram's values carry the name of the series each belongs to (_bucket, _sum, _count).
  const { values } = (await metric.get()) as { values: { metricName?: string; value: number }[] };
  return values
    .filter((value) => value.metricName === `${GC_DURATION}_count`)
    .reduce((sum, { value }) => sum + value, 0);
}

/** Some 100 MB of short-lived objects: young-generation collections follow. */
function churn(): void {
  let kept: number[] = [];
  for (let i = 0; i < 1_000_000; i++) kept = new Array<number>(12).fill(i);
  expect(kept).toHaveLength(12);
}

describe('versions', () => {
  it('prom-client is the version default-metrics was written against', () => {
    expect(versionMismatch('prom-client')).toBeUndefined();
  });
});

describe('prom-client: collectDefaultMetrics', () => {
  it('starts one PerformanceObserver and enables one monitorEventLoopDelay histogram, looked up on perf_hooks during the call', () => {
    const { PerformanceObserver, monitorEventLoopDelay } = perfHooks;
    const registry = new Registry();
    const metrics = startDefaultMetrics(registry, 'test_');
    try {
      expect(metrics.observers).toHaveLength(1);
      expect(metrics.histograms).toHaveLength(1);
      expect(metrics.histograms[0].enable()).toBe(false); // already enabled
      expect(registry.getSingleMetric(GC_DURATION)).toBeDefined();
      expect(registry.getSingleMetric('test_nodejs_eventloop_lag_seconds')).toBeDefined();
    } finally {
      metrics.stop();
    }
    expect(perfHooks.PerformanceObserver).toBe(PerformanceObserver);
    expect(perfHooks.monitorEventLoopDelay).toBe(monitorEventLoopDelay);
    expect(metrics.histograms[0].disable()).toBe(false); // stop disabled it
  });

  it('the observer feeds the GC histogram until stop, and no more after it', async () => {
    const registry = new Registry();
    const metrics = startDefaultMetrics(registry, 'test_');
    try {
      await waitUntil(
        async () => {
          churn();
          await nextTurn();
          return (await collections(registry)) > 0;
        },
        10_000,
        'a garbage collection counted',
      );
    } finally {
      metrics.stop();
    }
    await nextTurn(); // entries already queued are delivered
    const counted = await collections(registry);
    for (let i = 0; i < 3; i++) {
      churn();
      await nextTurn();
    }
    expect(await collections(registry)).toBe(counted);
  });

  it('a registry that already holds the metrics: throws, and leaves perf_hooks as it was', () => {
    const { PerformanceObserver, monitorEventLoopDelay } = perfHooks;
    const registry = new Registry();
    const metrics = startDefaultMetrics(registry, 'test_');
    try {
      expect(() => startDefaultMetrics(registry, 'test_')).toThrow(/already been registered/);
    } finally {
      metrics.stop();
    }
    expect(perfHooks.PerformanceObserver).toBe(PerformanceObserver);
    expect(perfHooks.monitorEventLoopDelay).toBe(monitorEventLoopDelay);
  });
});
