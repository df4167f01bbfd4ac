import { describe, expect, it } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { AdminLogin } from './admin-login.js';

const CREDENTIALS = { username: 'dev', hash: '$2b$10$hash' };

/** An AdminLogin whose password check is `compare`, with what it counted, logged and compared. */
function setup(compare: (password: string) => Promise<boolean>): {
  login: (auth: Record<string, unknown>, emitted?: unknown[][]) => Promise<Error | undefined>;
  counted: () => Promise<Record<string, number>>;
  logged: string[];
  compared: string[];
} {
  const metrics = new RelayMetrics();
  const logged: string[] = [];
  const compared: string[] = [];
  const log = { warn: (line: string) => logged.push(line) } as unknown as Logger;
  const checker = {
    compare: (password: string) => {
      compared.push(password);
      return compare(password);
    },
    close: () => Promise.resolve(),
  };
  const admin = new AdminLogin(CREDENTIALS, new Set(), metrics, log, checker);
  return {
    login: (auth, emitted = []) => {
      const socket = {
        handshake: { auth, address: '10.0.0.1', headers: {} },
        emit: (...args: unknown[]) => emitted.push(args),
      } as unknown as Socket;
      return new Promise((resolve) => admin.middleware(socket, resolve));
    },
    counted: async () => {
      const { values } = await metrics.adminLogins.get();
      return Object.fromEntries(values.map((v): [string, number] => [String(v.labels.result), v.value]));
    },
    logged,
    compared,
  };
}

describe('AdminLogin', () => {
  it('hands out a session id for the right login, which then logs in alone, unchecked', async () => {
    const { login, counted, compared } = setup((password) => Promise.resolve(password === 'right'));
    const emitted: unknown[][] = [];
    expect(await login({ username: 'dev', password: 'right' }, emitted)).toBeUndefined();
    expect(emitted).toEqual([['session', expect.stringMatching(/^[0-9a-f]{16}$/)]]);
    const session = emitted[0][1];
    expect(await login({ sessionId: session })).toBeUndefined();
    expect(await login({ sessionId: session, username: 'dev', password: 'wrong' })).toBeUndefined();
    expect(compared).toEqual(['right']);
    expect(await counted()).toEqual({ accepted: 1 });
  });

  it('refuses a wrong password or username as invalid credentials, comparing the password either way', async () => {
    const { login, counted, compared } = setup((password) => Promise.resolve(password === 'right'));
    expect(await login({ username: 'dev', password: 'wrong' })).toEqual(new Error('invalid credentials'));
    expect(await login({ username: 'admin', password: 'right' })).toEqual(new Error('invalid credentials'));
    expect(await login({ sessionId: 'forged' })).toEqual(new Error('invalid credentials'));
    expect(compared).toEqual(['wrong', 'right']);
    expect(await counted()).toEqual({ invalid: 2 });
  });

  it('shows the form on a first visit, and refuses login fields that are no strings unchecked', async () => {
    const { login, compared } = setup(() => Promise.resolve(true));
    expect(await login({})).toEqual(new Error(''));
    expect(await login({ sessionId: null })).toEqual(new Error(''));
    for (const auth of [{ username: 'dev' }, { username: 'dev', password: 1 }, { sessionId: { id: 1 } }]) {
      expect(await login(auth)).toEqual(new Error('invalid credentials'));
    }
    expect(compared).toEqual([]);
  });

  it('refuses a login whose check could not run with a message of its own, counted and logged', async () => {
    const { login, counted, logged } = setup(() =>
      Promise.reject(new Error('the password check worker stopped (exit code 1)')),
    );
    expect(await login({ username: 'dev', password: 'right' })).toEqual(
      new Error('the password could not be checked, try again'),
    );
    expect(await counted()).toEqual({ error: 1 });
    expect(logged).toEqual([
      "Admin UI: could not check a login's password: the password check worker stopped (exit code 1)",
    ]);
  });
});
