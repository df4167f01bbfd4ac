import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { IsInt, IsOptional, IsString, ValidateIf, ValidateNested, validateSync } from 'class-validator';
import { BroadcastDto, MAX_DATA_DEPTH } from './broadcast.dto.js';
import { compileAcceptor } from './class-validator-acceptor.js';

const nested = (depth: number): unknown => (depth <= 1 ? {} : { a: nested(depth - 1) });

/** Field values that pass and fail each of BroadcastDto's constraints. */
const EVENTS: unknown[] = [
  'App\\Events\\OrderShipped',
  'order.shipped',
  '',
  'x'.repeat(200),
  'x'.repeat(201),
  'connect',
  'newListener',
  'error',
  'pusher:error',
  'pusher_internal:member_added',
  'presence:joining',
  'errors',
  42,
  null,
  undefined,
  ['e'],
];
const DATA: unknown[] = [
  {},
  [],
  { order: { id: 7 } },
  nested(MAX_DATA_DEPTH),
  nested(MAX_DATA_DEPTH + 1),
  'text',
  7,
  null,
  undefined,
  true,
];
const SOCKETS: unknown[] = [undefined, null, 'abc.123', '', 'x'.repeat(100), 'x'.repeat(101), 5, { id: 1 }];

function dto(event: unknown, data: unknown, socket: unknown): BroadcastDto {
  return Object.assign(new BroadcastDto(), { channel: 'orders', event, data, socket });
}

describe('compileAcceptor', () => {
  const accepts = compileAcceptor(BroadcastDto);

  it('reproduces BroadcastDto', () => assert.equal(typeof accepts, 'function'));

  it('agrees with validateSync on every combination of passing and failing BroadcastDto fields', () => {
    let refused = 0;
    for (const event of EVENTS) {
      for (const data of DATA) {
        for (const socket of SOCKETS) {
          const candidate = dto(event, data, socket);
          const valid = validateSync(candidate).length === 0;
          if (!valid) refused++;
          assert.equal(accepts!(candidate), valid, JSON.stringify({ event, data, socket }).slice(0, 120));
        }
      }
    }
    assert.ok(refused > 0 && refused < EVENTS.length * DATA.length * SOCKETS.length, 'the corpus has both verdicts');
  });

  it('honours @IsOptional and @ValidateIf like class-validator', () => {
    class Sample {
      @IsOptional() @IsString() note?: unknown;
      @ValidateIf((o: Sample) => o.kind === 'count') @IsInt() count?: unknown;
      kind?: string;
    }
    const accept = compileAcceptor(Sample)!;
    for (const values of [
      { note: undefined, kind: 'other', count: 'x' },
      { note: null, kind: 'count', count: 3 },
      { note: 5, kind: 'other' },
      { note: 'n', kind: 'count', count: 'x' },
      { note: 'n', kind: 'count' },
    ]) {
      const sample = Object.assign(new Sample(), values);
      assert.equal(accept(sample), validateSync(sample).length === 0, JSON.stringify(values));
    }
  });

  it('leaves classes it cannot reproduce exactly to validateSync', () => {
    class Child {
      @IsString() name!: string;
    }
    class WithNested {
      @ValidateNested() child!: Child;
    }
    class WithEach {
      @IsString({ each: true }) names!: string[];
    }
    class Plain {
      name = '';
    }
    assert.equal(compileAcceptor(WithNested), undefined);
    assert.equal(compileAcceptor(WithEach), undefined);
    assert.equal(compileAcceptor(Plain), undefined);
  });
});
