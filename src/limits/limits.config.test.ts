import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { budgetWarning, messageBudget } from './message-budget.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('limits.maxMessagesPerSecond / maxMessageBurst', () => {
  it('defaults to 200 a second after a burst of 5000, well above maxChannelsPerSocket', () => {
    const { limits } = loadConfig({ env: {}, cwd }).config;
    expect(limits).toMatchObject({ maxMessagesPerSecond: 200, maxMessageBurst: 5000, maxChannelsPerSocket: 1000 });
    expect(budgetWarning(limits)).toBeUndefined();
  });

  it('reads both from the environment; 0 turns the limit off', () => {
    const env = { ECHO_RELAY_MAX_MESSAGES_PER_SECOND: '0', ECHO_RELAY_MAX_MESSAGE_BURST: '20' };
    const { limits } = loadConfig({ env, cwd }).config;
    expect(limits).toMatchObject({ maxMessagesPerSecond: 0, maxMessageBurst: 20 });
    expect(messageBudget(limits)).toBeUndefined();
  });

  it.each([
    ['ECHO_RELAY_MAX_MESSAGES_PER_SECOND', '-1', /ECHO_RELAY_MAX_MESSAGES_PER_SECOND/],
    ['ECHO_RELAY_MAX_MESSAGES_PER_SECOND', '2.5', /ECHO_RELAY_MAX_MESSAGES_PER_SECOND/],
    ['ECHO_RELAY_MAX_MESSAGE_BURST', '0', /limits\.maxMessageBurst/],
    ['ECHO_RELAY_MAX_MESSAGE_BURST', 'lots', /ECHO_RELAY_MAX_MESSAGE_BURST/],
  ])('refuses %s=%s as a bad config (exit 78)', (name, value, message) => {
    expect(() => loadConfig({ env: { [name]: value }, cwd })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { [name]: value }, cwd })).toThrow(message);
  });

  it.each([
    [{ maxMessagesPerSecond: -1 }, /limits\.maxMessagesPerSecond/],
    [{ maxMessagesPerSecond: 2_000_000 }, /limits\.maxMessagesPerSecond/],
    [{ maxMessageBurst: 0 }, /limits\.maxMessageBurst/],
    [{ maxMessageBurst: 1.5 }, /limits\.maxMessageBurst/],
  ])('refuses %j in the config file as a bad config (exit 78)', (limits, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-limits-'));
    writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify({ limits }));
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(message);
  });

  it('warns when the burst would not cover a re-subscribe of every channel', () => {
    const env = { ECHO_RELAY_MAX_MESSAGE_BURST: '1000' };
    expect(budgetWarning(loadConfig({ env, cwd }).config.limits)).toMatch(/raise it to at least 1100/);
  });

  it('gives a new connection the whole burst, then the sustained rate', () => {
    const budget = messageBudget({ maxMessagesPerSecond: 200, maxMessageBurst: 5000, maxChannelsPerSocket: 1000 });
    let taken = 0;
    while (budget?.take()) taken++;
    // A clock tick during the loop may add a token or two.
    expect(taken).toBeGreaterThanOrEqual(5000);
    expect(taken).toBeLessThan(5010);
  });
});
