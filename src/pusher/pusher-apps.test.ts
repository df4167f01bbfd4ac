import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import Pusher from 'pusher';
import { PusherApps, pusherSignature, verifyChannelAuth, verifyUserAuth } from './pusher-apps.js';

const APP = { appId: '1', key: 'key-1', secret: 'secret-1' };

describe('PusherApps', () => {
  it('serves only the clients that have a secret', () => {
    const apps = new PusherApps([APP, { appId: '2', key: 'key-2' }, { appId: '3', key: 'key-3', secret: '' }]);
    expect(apps.size).toBe(1);
    expect(apps.find('key-1')).toEqual(APP);
    expect(apps.find('key-2')).toBeUndefined();
    expect(apps.find('key-3')).toBeUndefined();
  });
});

describe('verifyChannelAuth', () => {
  // Pusher's documented example: https://pusher.com/docs/channels/library_auth_reference/auth-signatures
  it("matches Pusher's reference signature", () => {
    expect(pusherSignature('7ad3773142a6692b25b8', '1234.1234:private-foobar')).toBe(
      '58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
    );
  });

  const sign = (text: string): string => `${APP.key}:${createHmac('sha256', APP.secret).update(text).digest('hex')}`;

  it('accepts the signature of socket_id:channel, and of socket_id:channel:channel_data for presence', () => {
    expect(verifyChannelAuth(APP, '1.2', 'private-a', sign('1.2:private-a'))).toBe(true);
    const data = '{"user_id":7}';
    expect(verifyChannelAuth(APP, '1.2', 'presence-a', sign(`1.2:presence-a:${data}`), data)).toBe(true);
  });

  it('refuses another socket, channel, channel_data, key or secret, and anything that is no key:signature', () => {
    const good = sign('1.2:private-a');
    expect(verifyChannelAuth(APP, '1.3', 'private-a', good)).toBe(false);
    expect(verifyChannelAuth(APP, '1.2', 'private-b', good)).toBe(false);
    expect(verifyChannelAuth(APP, '1.2', 'private-a', good, '{}')).toBe(false);
    expect(verifyChannelAuth(APP, '1.2', 'private-a', good.replace('key-1', 'key-2'))).toBe(false);
    expect(verifyChannelAuth({ ...APP, secret: 'other' }, '1.2', 'private-a', good)).toBe(false);
    for (const bad of [undefined, 5, '', 'key-1', 'key-1:', `key-1:${'a'.repeat(63)}`, `${good}0`]) {
      expect(verifyChannelAuth(APP, '1.2', 'private-a', bad)).toBe(false);
    }
  });
});

describe('verifyUserAuth', () => {
  // Pusher's own server SDK signs what pusher-js sends with `pusher:signin`.
  const sdk = new Pusher({ appId: APP.appId, key: APP.key, secret: APP.secret, cluster: 'mt1' });

  it("accepts what Pusher's SDK signs for socket_id::user::user_data", () => {
    const { auth, user_data } = sdk.authenticateUser('1.2', { id: '7', user_info: { name: 'Ann' } });
    expect(verifyUserAuth(APP, '1.2', auth, user_data)).toBe(true);
  });

  it('refuses another socket, user data or secret, and anything that is no key:signature', () => {
    const { auth, user_data } = sdk.authenticateUser('1.2', { id: '7' });
    expect(verifyUserAuth(APP, '1.3', auth, user_data)).toBe(false);
    expect(verifyUserAuth(APP, '1.2', auth, '{"id":"8"}')).toBe(false);
    expect(verifyUserAuth({ ...APP, secret: 'other' }, '1.2', auth, user_data)).toBe(false);
    expect(verifyUserAuth(APP, '1.2', sdk.authorizeChannel('1.2', 'private-a').auth, user_data)).toBe(false);
    for (const bad of [undefined, 5, '', 'key-1', `${auth}0`])
      expect(verifyUserAuth(APP, '1.2', bad, user_data)).toBe(false);
  });
});
