import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { socketChannels } from '../channels/socket-channels.js';
import { InvalidClientMessage, SubscriptionDenied, SubscriptionIgnored } from '../gateway/client-errors.js';
import { ChannelAuthGuard } from './channel-auth.guard.js';
import type { AuthDecision, ChannelAuthService } from './channel-auth.service.js';

/** An auth service whose answers the test releases by hand. */
class ManualAuth {
  readonly calls: string[] = [];
  private readonly waiting: ((decision: AuthDecision) => void)[] = [];

  authorize(_socket: Socket, channel: string): Promise<AuthDecision> {
    this.calls.push(channel);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  answer(decision: AuthDecision): void {
    this.waiting.shift()!(decision);
  }
}

function setup(): { guard: ChannelAuthGuard; auth: ManualAuth; socket: Socket & { connected: boolean } } {
  const auth = new ManualAuth();
  const guard = new ChannelAuthGuard(auth as unknown as ChannelAuthService);
  const socket = { id: 's1', connected: true } as Socket & { connected: boolean };
  return { guard, auth, socket };
}

function context(socket: Socket, data: unknown): ExecutionContext {
  return { switchToWs: () => ({ getClient: () => socket, getData: () => data }) } as unknown as ExecutionContext;
}

const subscribe = (channel: string): unknown => ({ channel, auth: { headers: {} } });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ChannelAuthGuard', () => {
  it('lets public channels through without asking', async () => {
    const { guard, auth, socket } = setup();
    assert.equal(await guard.canActivate(context(socket, subscribe('orders'))), true);
    assert.deepEqual(auth.calls, []);
  });

  it('refuses malformed subscribes as invalid client messages', async () => {
    const { guard, socket } = setup();
    await assert.rejects(guard.canActivate(context(socket, { channel: 42 })), InvalidClientMessage);
  });

  it('records an allowed presence member on the pending attempt for the handler', async () => {
    const { guard, auth, socket } = setup();
    const passing = guard.canActivate(context(socket, subscribe('presence-room.1')));
    await tick();
    auth.answer({ allowed: true, member: { user_id: 1, user_info: null } });
    assert.equal(await passing, true);
    assert.deepEqual(socketChannels(socket).pending.get('presence-room.1'), {
      authorized: true,
      member: { user_id: 1, user_info: null },
    });
  });

  it('turns a no into SubscriptionDenied with the status, and forgets the attempt', async () => {
    const { guard, auth, socket } = setup();
    const passing = guard.canActivate(context(socket, subscribe('private-a')));
    await tick();
    auth.answer({ allowed: false, status: 419, outcome: 'denied' });
    await assert.rejects(passing, (err: unknown) => err instanceof SubscriptionDenied && err.status === 419);
    assert.equal(socketChannels(socket).pending.has('private-a'), false);
  });

  it('asks once for repeated subscribes in flight, and not at all once joined', async () => {
    const { guard, auth, socket } = setup();
    const first = guard.canActivate(context(socket, subscribe('private-a')));
    await tick();
    await assert.rejects(guard.canActivate(context(socket, subscribe('private-a'))), SubscriptionIgnored);
    auth.answer({ allowed: true });
    assert.equal(await first, true);
    socketChannels(socket).joined.add('private-a');
    assert.equal(await guard.canActivate(context(socket, subscribe('private-a'))), true);
    assert.deepEqual(auth.calls, ['private-a']);
  });

  it('ignores a yes that arrives after the socket unsubscribed or disconnected', async () => {
    const { guard, auth, socket } = setup();
    const unsubscribed = guard.canActivate(context(socket, subscribe('private-a')));
    const disconnected = guard.canActivate(context(socket, subscribe('private-b')));
    await tick();
    socketChannels(socket).pending.delete('private-a');
    auth.answer({ allowed: true });
    await assert.rejects(unsubscribed, SubscriptionIgnored);
    socket.connected = false;
    auth.answer({ allowed: true });
    await assert.rejects(disconnected, SubscriptionIgnored);
  });
});
