import { describe, expect, it } from '@jest/globals';
import { RelayMetrics } from './relay-metrics.js';

describe('gauges fed by a tally', () => {
  it('report what was counted at scrape time, by label value, keeping a value that went back to 0', async () => {
    const metrics = new RelayMetrics();
    metrics.openConnections.inc('4');
    metrics.openConnections.inc('4');
    metrics.openConnections.inc('3');
    metrics.openConnections.dec('3');
    metrics.channelSubscriptions.inc('presence');

    const text = await metrics.registry.metrics();

    expect(text).toContain('echo_relay_connections{eio="4"} 2');
    expect(text).toContain('echo_relay_connections{eio="3"} 0');
    expect(text).toContain('echo_relay_subscriptions{type="presence"} 1');
    metrics.openConnections.dec('4');
    expect(await metrics.registry.metrics()).toContain('echo_relay_connections{eio="4"} 1');
  });
});
