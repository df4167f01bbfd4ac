import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { shutdownConfigSlice, shutdownWarning, type ShutdownConfig } from './shutdown.config.js';

describe('shutdownWarning', () => {
  it('says nothing for the defaults or a grace period that leaves the stop time', () => {
    assert.equal(shutdownWarning(shutdownConfigSlice.defaults() as ShutdownConfig), undefined);
    assert.equal(shutdownWarning({ timeoutMs: 10_000, graceMs: 5_000, disconnectSpreadMs: 1_000 }), undefined);
  });

  it('names the three keys when the grace period and the spread reach the hard limit', () => {
    const warning = shutdownWarning({ timeoutMs: 10_000, graceMs: 9_000, disconnectSpreadMs: 1_000 });
    assert.match(warning ?? '', /shutdownGraceMs \(9000\) plus shutdownDisconnectSpreadMs \(1000\)/);
    assert.match(warning ?? '', /within shutdownTimeoutMs \(10000\)/);
    assert.ok(shutdownWarning({ timeoutMs: 10_000, graceMs: 15_000, disconnectSpreadMs: 0 }));
  });
});
