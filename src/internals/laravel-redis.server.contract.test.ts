/**
 * Contract of src/internals/laravel-redis.server.ts (a `ServerRedis` subclass) with
 * @nestjs/microservices 12.1.1 (server/server.js, server/server-redis.js): the members it overrides
 * and the protected ones it uses, and how Nest drives a custom strategy in a hybrid app
 * (`connectMicroservice` + `startAllMicroservices`, as src/server/start-server.ts does). Runs on a
 * stand-in subclass built the same way, so it needs no Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RedisContext, ServerRedis, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom, take, toArray } from 'rxjs';
import { versionMismatch } from './written-against.js';

const EVENT = 'laravel.broadcast';

type Methods = Record<string, (...args: unknown[]) => unknown>;

/** A deserializer the server must keep as given (the Laravel one parses raw Buffers). */
const deserializer = { deserialize: (value: unknown) => ({ pattern: EVENT, data: value }) };

/** Built like LaravelRedisServer: wildcards, own deserializer, transportId set, listen/close overridden. */
class StandInServer extends ServerRedis {
  listened = 0;
  closed = 0;

  constructor() {
    super({ wildcards: true, deserializer });
    this.transportId = Transport.REDIS;
  }

  override listen(callback: (err?: unknown) => void): Promise<void> {
    this.listened++;
    callback();
    return Promise.resolve();
  }

  override close(): Promise<void> {
    this.closed++;
    this.isManuallyClosed = true;
    return Promise.resolve();
  }

  /** The protected members LaravelRedisServer reads and writes, as this instance holds them. */
  get internals(): Record<string, unknown> {
    return {
      subClient: this.subClient,
      isManuallyClosed: this.isManuallyClosed,
      _status$: this._status$,
      deserializer: this.deserializer,
    };
  }

  setSubClient(client: unknown): void {
    this.subClient = client;
  }

  route(pattern: string): string {
    return this.getRouteFromPattern(pattern);
  }
}

@Controller()
class ProbeController {
  readonly received: unknown[][] = [];

  @EventPattern(EVENT)
  async handle(@Payload('messages') messages: unknown, @Ctx() ctx: unknown): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.received.push([messages, (ctx as RedisContext).getChannel()]);
  }
}

it('@nestjs/microservices is the version LaravelRedisServer was written against', () => {
  expect(versionMismatch('@nestjs/microservices')).toBeUndefined();
});

describe('ServerRedis.prototype', () => {
  for (const [member, arity] of [
    ['listen', 1], // overridden
    ['createRedisClient', 0], // overridden
    ['close', 0], // overridden
    ['getRouteFromPattern', 1], // overridden, and called as super
    ['handleEvent', 3], // called with (pattern, packet, context)
  ] as const) {
    it(`@nestjs/microservices: ServerRedis.prototype.${member} is a function of ${arity} argument(s)`, () => {
      const method = (ServerRedis.prototype as unknown as Methods)[member];
      expect(typeof method).toBe('function');
      expect(method.length).toBe(arity);
    });
  }

  it('@nestjs/microservices: ServerRedis#createRedisClient is async (the override returns a promise too)', () => {
    expect((ServerRedis.prototype as unknown as Methods).createRedisClient.constructor.name).toBe('AsyncFunction');
  });
});

describe('a ServerRedis instance', () => {
  it('@nestjs/microservices: transportId is Transport.REDIS and assignable', () => {
    const server = new StandInServer();
    expect(server.transportId).toBe(Transport.REDIS);
  });

  it('@nestjs/microservices: isManuallyClosed starts false, subClient undefined and assignable', () => {
    const server = new StandInServer();
    expect(server.internals.isManuallyClosed).toBe(false);
    expect(server.internals.subClient).toBeUndefined();
    const client = {};
    server.setSubClient(client);
    expect(server.internals.subClient).toBe(client);
  });

  it('@nestjs/microservices: the deserializer given in the options is kept as this.deserializer', () => {
    expect(new StandInServer().internals.deserializer).toBe(deserializer);
  });

  it('@nestjs/microservices: _status$.next feeds the public status observable', async () => {
    const server = new StandInServer();
    const status$ = server.internals._status$ as { next: (status: string) => void };
    expect(typeof status$.next).toBe('function');
    const seen = firstValueFrom(server.status.pipe(take(2), toArray()));
    status$.next('connected');
    status$.next('disconnected');
    expect(await seen).toEqual(['connected', 'disconnected']);
  });

  it('@nestjs/microservices: getRouteFromPattern takes a plain name as is, and parses and normalises a JSON one', () => {
    const server = new StandInServer();
    expect(server.route(EVENT)).toBe(EVENT);
    // A JSON pattern is parsed and its keys sorted: the path our override skips for its own route.
    expect(server.route('{"b":1,"a":2}')).toBe('{"a":2,"b":1}');
  });
});

describe('a strategy in a hybrid Nest app', () => {
  let app: INestApplication;
  let server: StandInServer;
  let probe: ProbeController;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [ProbeController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    server = new StandInServer();
    app.connectMicroservice({ strategy: server });
    await app.startAllMicroservices();
    await app.init();
    probe = app.get(ProbeController);
  });

  afterAll(async () => {
    await app.close();
    expect(server.closed).toBe(1);
  });

  it('@nestjs/microservices: startAllMicroservices calls listen(callback) once', () => {
    expect(server.listened).toBe(1);
  });

  it('@nestjs/microservices: an @EventPattern handler is registered under its name, as an event handler', () => {
    const handler = server.getHandlers().get(EVENT) as { isEventHandler?: boolean } | undefined;
    expect(handler).toBeDefined();
    expect(handler?.isEventHandler).toBe(true);
  });

  it('@nestjs/microservices: handleEvent routes through getRouteFromPattern, and resolves once the handler has run', async () => {
    const routed: string[] = [];
    const route = (ServerRedis.prototype as unknown as Methods).getRouteFromPattern;
    const spy = server as unknown as { getRouteFromPattern: (pattern: string) => string };
    spy.getRouteFromPattern = (pattern: string) => {
      routed.push(pattern);
      return route.call(server, pattern) as string;
    };
    try {
      const ctx = new RedisContext([EVENT, undefined]);
      await server.handleEvent(EVENT, { pattern: EVENT, data: { messages: ['one', 'two'] } }, ctx);
      expect(routed).toEqual([EVENT]);
      expect(probe.received).toEqual([[['one', 'two'], EVENT]]);
    } finally {
      delete (spy as Partial<typeof spy>).getRouteFromPattern;
    }
  });
});
