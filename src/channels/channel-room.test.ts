import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { isConnectionId } from '../internals/connection-ids.js';
import { newSocketId } from '../pusher/pusher-protocol.js';
import { channelOfRoom, channelRoom } from './channel-room.js';

/** A socket.io socket id as base64id makes them. */
const socketId = (): string => randomBytes(15).toString('base64url');

const ORDINARY = ['orders', 'private-orders.1', 'presence-chat.42', 'private-encrypted-x', 'App.Models.User.1', 'a'];

describe('channelRoom', () => {
  it('is the channel name itself for channels as Laravel names them', () => {
    for (const channel of ORDINARY) expect(channelRoom(channel)).toBe(channel);
  });

  it('escapes a name that could be a socket.io socket id or a Pusher socket_id', () => {
    const id = socketId();
    expect(channelRoom(id)).toBe(`#${id}`);
    expect(channelRoom('private-user-1234567')).toBe('#private-user-1234567');
    expect(channelRoom('123.456')).toBe('#123.456');
  });

  it('escapes a name that starts with the escape, so that two channels never share a room', () => {
    const id = socketId();
    expect(channelRoom(`#${id}`)).toBe(`##${id}`);
    expect(channelRoom('#orders')).toBe('##orders');
    expect(channelRoom(`#${id}`)).not.toBe(channelRoom(id));
  });

  it("is never a connection's own room", () => {
    const names = [...ORDINARY, ...Array.from({ length: 200 }, socketId), ...Array.from({ length: 200 }, newSocketId)];
    for (const name of names) expect(isConnectionId(channelRoom(name))).toBe(false);
  });
});

describe('channelOfRoom', () => {
  it('reads every channel back from its room', () => {
    const names = [...ORDINARY, socketId(), newSocketId(), '#orders', `#${socketId()}`, '##x', '#'];
    for (const name of names) expect(channelOfRoom(channelRoom(name))).toBe(name);
  });

  it("is undefined for a connection's own room", () => {
    expect(channelOfRoom(socketId())).toBeUndefined();
    expect(channelOfRoom(newSocketId())).toBeUndefined();
  });
});
