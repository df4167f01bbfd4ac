import { beforeAll, describe, expect, it } from '@jest/globals';
import { deflateSync, gzipSync } from 'node:zlib';
import { collect, connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { scrape } from '../support/http-api.js';
import { rawExchange } from '../support/http.js';
import { waitUntil } from '../support/ports.js';
import { PUSHER_APP, PUSHER_CLIENTS_ENV } from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';

const LIMIT = 102_400;
const TOO_LARGE = /^HTTP\/1\.1 413 /;

/** Status line, lower-cased headers and body of a raw answer. */
function parse(answer: string): { status: string; headers: Map<string, string>; body: string } {
  const end = answer.indexOf('\r\n\r\n');
  const [status, ...lines] = answer.slice(0, end).split('\r\n');
  const headers = new Map(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status, headers, body: answer.slice(end + 4) };
}

describe('HTTP API bodies over apiMaxBodyBytes', () => {
  const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV } });
  let relay: TestRelay;
  let port: number;

  beforeAll(() => {
    relay = fx.relay;
    port = Number(new URL(relay.apiUrl).port);
  });

  const laravelEvents = 'POST /apps/plain-app/events?auth_key=plain-key HTTP/1.1';
  // Refused before its signature is checked: any signature makes it a Pusher API request.
  const pusherEvents = `POST /apps/${PUSHER_APP.appId}/events?auth_key=${PUSHER_APP.key}&auth_timestamp=1&auth_version=1.0&auth_signature=x HTTP/1.1`;

  /** Sends `head` and `parts` and waits for the server to close the connection, unanswered parts unsent. */
  const refused = async (head: string[], parts: string[]): Promise<ReturnType<typeof parse>> => {
    const answer = await rawExchange(
      port,
      [head[0], 'Host: 127.0.0.1', 'Content-Type: application/json', ...head.slice(1)],
      {
        body: parts,
        untilClose: true,
      },
    ).catch((err: Error) => {
      throw new Error(`the connection stayed open: ${err.message.slice(0, 300)}`);
    });
    return parse(answer);
  };

  it('answers a declared Content-Length over the limit with 413 at once and closes, before reading the body', async () => {
    for (const request of [laravelEvents, pusherEvents]) {
      const before = await scrape(relay.apiUrl);
      const answer = await refused([request, 'Content-Length: 400000000'], ['{"channel": "x", "data": "']);
      expect(answer.status).toMatch(TOO_LARGE);
      expect(answer.headers.get('connection')).toBe('close');
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body)).toEqual({ error: `request body is larger than ${LIMIT} bytes` });
      const after = await scrape(relay.apiUrl);
      const dropped = (s: typeof before): number => s.get('echo_relay_messages_dropped_total{reason="too_large"}') ?? 0;
      expect(dropped(after)).toBe(dropped(before) + 1);
    }
  });

  it('answers a chunked body with 413 and closes as soon as it passes the limit', async () => {
    const chunk = `${(40_000).toString(16)}\r\n${'x'.repeat(40_000)}\r\n`;
    for (const request of [laravelEvents, pusherEvents]) {
      // 120 000 bytes and no final chunk: the rest never comes.
      const answer = await refused([request, 'Transfer-Encoding: chunked'], [chunk, chunk, chunk]);
      expect(answer.status).toMatch(TOO_LARGE);
      expect(answer.headers.get('connection')).toBe('close');
      expect(JSON.parse(answer.body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''))).toEqual({
        error: `request body is larger than ${LIMIT} bytes`,
      });
    }
  });

  it('still reads bodies up to the limit: chunked, at the limit, gzip and deflate', async () => {
    const echo = fx.client();
    const got = collect(echo, 'sized', '.ok');
    await connected(echo);
    await relay.waitForSubscribers('sized', 1);
    const event = (n: number, pad = 0): string =>
      JSON.stringify({ channel: 'sized', name: 'ok', data: { n, pad: 'p'.repeat(pad) } });
    const atLimit = event(2, LIMIT - event(2).length);
    expect(atLimit.length).toBe(LIMIT);
    const half = Math.floor(atLimit.length / 2);
    const chunked = parse(
      await rawExchange(
        port,
        [laravelEvents, 'Host: 127.0.0.1', 'Content-Type: application/json', 'Transfer-Encoding: chunked'],
        {
          body: [1, 2]
            .map((part) => {
              const text = part === 1 ? atLimit.slice(0, half) : atLimit.slice(half);
              return `${text.length.toString(16)}\r\n${text}\r\n`;
            })
            .concat('0\r\n\r\n'),
        },
      ),
    );
    expect(chunked.status).toBe('HTTP/1.1 200 OK');
    const url = `${relay.apiUrl}/apps/plain-app/events?auth_key=plain-key`;
    const post = (body: Buffer | string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    expect((await post(event(1))).status).toBe(200);
    expect((await post(gzipSync(event(3)), { 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await post(deflateSync(event(4)), { 'content-encoding': 'deflate' })).status).toBe(200);
    await waitUntil(() => got.length === 4);
    expect(got.map((data) => (data as { n: number }).n).sort()).toEqual([1, 2, 3, 4]);
  });

  it('keeps refusing compression bombs (413), unknown encodings (415) and bad JSON (400)', async () => {
    const url = `${relay.apiUrl}/apps/plain-app/events?auth_key=plain-key`;
    const post = async (body: Buffer | string, headers: Record<string, string> = {}): Promise<[number, unknown]> => {
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });
      return [res.status, await res.json()];
    };
    const bomb = gzipSync(JSON.stringify({ channel: 'x', name: 'ok', data: { pad: ' '.repeat(50_000_000) } }));
    expect(bomb.length).toBeLessThan(LIMIT);
    expect(await post(bomb, { 'content-encoding': 'gzip' })).toEqual([
      413,
      { error: `request body is larger than ${LIMIT} bytes` },
    ]);
    const [unknown] = await post('{}', { 'content-encoding': 'compress' });
    expect(unknown).toBe(415);
    const [bad, body] = await post('{"channel": ');
    expect([bad, body]).toEqual([400, { error: expect.stringMatching(/not valid JSON/) as unknown }]);
  });
});
