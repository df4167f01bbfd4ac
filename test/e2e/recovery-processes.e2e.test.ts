import { afterEach, describe, expect, it } from '@jest/globals';
import { connected, type TestEcho } from '../support/echo-client.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { useFixture, type Fixture } from '../support/fixture.js';
import { ApiClient } from '../support/http-api.js';
import { sleep, waitUntil } from '../support/ports.js';
import {
  dataOf,
  metric,
  offline,
  proxyTo,
  recordAll,
  RECONNECTING,
  SEQUENCER,
  waitForBroadcasts,
  type Received,
} from '../support/recovery.js';
import { killRelay, waitReady, type RelayProcess } from '../support/relay-process.js';

const PREFIX = 'laravel_database_';
const APP = { appId: 'app', key: 'app-key' };
/** Nodes as child processes: a killed one takes its lease with it, so keep lease expiry short. */
const NODE_ENV = {
  ECHO_RELAY_CLIENTS: JSON.stringify([APP]),
  ECHO_RELAY_RECOVERY_LEASE_MS: '1000',
  ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS: '0',
};

/** Child processes started by the running test, killed after it (a later test needs its own sequencer). */
const started: RelayProcess[] = [];

/** A ready echo-relay child process on the suite's Redis. */
async function node(fx: Fixture): Promise<RelayProcess> {
  const child = fx.spawnNode({ env: NODE_ENV });
  started.push(child);
  await waitReady(child);
  return child;
}

const running = (child: RelayProcess): boolean => child.child.exitCode === null && child.child.signalCode === null;

const portOf = (child: RelayProcess): number => Number(new URL(child.url).port);

/** Waits until the cluster, as `child`'s HTTP API counts it, has `count` subscriptions to `channel`. */
async function waitForCount(child: RelayProcess, channel: string, count: number): Promise<void> {
  const api = new ApiClient(child.url, APP.appId, APP.key);
  await waitUntil(
    async () =>
      ((await api.get(`/channels/${channel}`)).body as { subscription_count?: number }).subscription_count === count,
    10_000,
    `${count} subscription(s) to ${channel}`,
  );
}

/** A client straight on `child`, subscribed to `channel`, recording everything. */
async function listener(fx: Fixture, child: RelayProcess, channel: string): Promise<Received[]> {
  const echo = fx.client({ on: child.url });
  const got = recordAll(echo);
  echo.channel(channel);
  await connected(echo);
  return got;
}

/** A client behind a proxy to `child` that reconnects by itself, subscribed to `channel`, recording everything. */
async function roaming(
  fx: Fixture,
  child: RelayProcess,
  channel: string,
): Promise<{ proxy: TcpProxy; echo: TestEcho; got: Received[] }> {
  const proxy = await proxyTo(fx, portOf(child));
  const echo = fx.client({ on: proxy.url, client: RECONNECTING });
  const got = recordAll(echo);
  echo.channel(channel);
  await connected(echo);
  return { proxy, echo, got };
}

/** Resolves once `child` has exited after `signal`. */
async function kill(child: RelayProcess, signal: NodeJS.Signals): Promise<void> {
  child.child.kill(signal);
  await child.exited;
}

describe('recovery across node restarts and node failures', () => {
  const fx = useFixture({ prefix: PREFIX, nodes: 0, env: NODE_ENV });
  afterEach(async () => {
    fx.closeTestClients();
    for (const child of started.splice(0)) await killRelay(child);
  });

  const tick = (channel: string, n: number | string): Promise<void> => fx.laravel.broadcast([channel], 'tick', { n });

  it('a node stopped with SIGTERM and started again: its client recovers what was published meanwhile', async () => {
    // A second node stays up: Laravel's pub/sub broadcasts need a node to sequence them.
    const stable = await node(fx);
    let restarted = await node(fx);
    const { proxy, echo, got } = await roaming(fx, restarted, 'orders');
    const seen = await listener(fx, stable, 'orders');
    await waitForCount(stable, 'orders', 2);
    await tick('orders', 1);
    await waitForBroadcasts(got, 'orders', 'tick', 1);
    const id = echo.socketId();

    const back = await offline(
      echo,
      proxy,
      async () => {
        await tick('orders', 2);
        await tick('orders', 3);
        await waitForBroadcasts(seen, 'orders', 'tick', 3);
        restarted = await node(fx);
        proxy.target = portOf(restarted);
      },
      () => kill(restarted, 'SIGTERM'),
    );

    // The stopping node closed the transport: socket.io-client reconnects by itself.
    expect(back).toEqual({ id, recovered: true, reason: 'transport close' });
    await tick('orders', 4);
    await waitForBroadcasts(got, 'orders', 'tick', 4);
    expect(dataOf(got, 'orders', 'tick')).toEqual([1, 2, 3, 4].map((n) => ({ n })));
    await waitForCount(stable, 'orders', 2);
  });

  it('a single node restarted: its client recovers what was published once the new process was up', async () => {
    let only = await node(fx);
    const { proxy, echo, got } = await roaming(fx, only, 'orders');
    await waitForCount(only, 'orders', 1);
    await tick('orders', 1);
    await waitForBroadcasts(got, 'orders', 'tick', 1);
    const id = echo.socketId();

    const back = await offline(
      echo,
      proxy,
      async () => {
        await waitUntil(() => !running(only), 10_000, 'the old process gone');
        // While no process runs, Laravel's pub/sub reaches nobody (README "Missed events"): the
        // broadcasts below are published once the new process is up, before the client is back.
        only = await node(fx);
        proxy.target = portOf(only);
        const api = new ApiClient(only.url, APP.appId, APP.key);
        const seen = await listener(fx, only, 'orders');
        await waitForCount(only, 'orders', 1);
        await tick('orders', 2);
        // Laravel's broadcast waits for the new sequencer; the HTTP publish must not overtake it.
        await waitForBroadcasts(seen, 'orders', 'tick', 1);
        expect((await api.publish({ channel: 'orders', name: 'tick', data: { n: 3 } })).status).toBe(200);
        await tick('orders', 4);
        await waitForBroadcasts(seen, 'orders', 'tick', 3);
        expect(await metric(only.url, SEQUENCER)).toBe(1);
      },
      () => kill(only, 'SIGTERM'),
    );

    expect(back).toEqual({ id, recovered: true, reason: 'transport close' });
    await tick('orders', 5);
    await waitForBroadcasts(got, 'orders', 'tick', 5);
    expect(dataOf(got, 'orders', 'tick')).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
  });

  it('three nodes: a client whose node was killed recovers on another node through the balancer', async () => {
    const [a, b, c] = [await node(fx), await node(fx), await node(fx)];
    const { proxy, echo, got } = await roaming(fx, a, 'fleet');
    const seen = await listener(fx, b, 'fleet');
    await waitForCount(b, 'fleet', 2);
    await tick('fleet', 1);
    await waitForBroadcasts(got, 'fleet', 'tick', 1);
    const id = echo.socketId();

    const back = await offline(
      echo,
      proxy,
      async () => {
        // Published while the killed node may still hold the lease: held by the others, sequenced late.
        await tick('fleet', 2);
        await tick('fleet', 3);
        await waitForBroadcasts(seen, 'fleet', 'tick', 3);
        proxy.target = portOf(c);
      },
      () => kill(a, 'SIGKILL'),
    );

    expect(back).toMatchObject({ id, recovered: true });
    await tick('fleet', 4);
    await waitForBroadcasts(got, 'fleet', 'tick', 4);
    expect(dataOf(got, 'fleet', 'tick')).toEqual([1, 2, 3, 4].map((n) => ({ n })));
    expect(await metric(c.url, 'echo_relay_recoveries_total', { result: 'recovered' })).toBe(1);
  });

  it('the sequencer killed mid-stream: clients on the other nodes get every event once, in order', async () => {
    const nodes = [await node(fx), await node(fx), await node(fx)];
    const got = await Promise.all(nodes.map((n) => listener(fx, n, 'stream')));
    await waitForCount(nodes[0], 'stream', 3);
    const sequencers = async (): Promise<RelayProcess[]> => {
      const flags = await Promise.all(nodes.map(async (n) => (running(n) ? metric(n.url, SEQUENCER) : 0)));
      return nodes.filter((_, i) => flags[i] === 1);
    };
    await waitUntil(async () => (await sequencers()).length === 1, 10_000, 'one sequencer');
    const [sequencer] = await sequencers();
    const survivors = nodes.map((n, i) => [n, got[i]] as const).filter(([n]) => n !== sequencer);

    const total = 200;
    const publishing = (async () => {
      for (let n = 0; n < total; n++) {
        await tick('stream', n);
        // A steady trickle, as a busy app publishes, so the kill lands mid-stream.
        await sleep(5);
      }
    })();
    await waitForBroadcasts(survivors[0][1], 'stream', 'tick', 50);
    await kill(sequencer, 'SIGKILL');
    await publishing;

    for (const [, received] of survivors) await waitForBroadcasts(received, 'stream', 'tick', total, 20_000);
    await tick('stream', 'end');
    for (const [, received] of survivors) await waitForBroadcasts(received, 'stream', 'tick', total + 1);
    const expected = [...Array.from({ length: total }, (_, n) => ({ n })), { n: 'end' }];
    for (const [, received] of survivors) expect(dataOf(received, 'stream', 'tick')).toEqual(expected);
    // The lease moved to one of the survivors.
    await waitUntil(async () => (await sequencers()).length === 1, 10_000, 'a new sequencer');
    expect(await sequencers()).not.toContain(sequencer);
  });
});
