import { describe, expect, it } from '@jest/globals';
import { apiVersionOf, ECHO_API, keyDigest, PUSHER_API } from './api-versions.js';

describe('apiVersionOf', () => {
  it("routes a request carrying auth_signature to Pusher's API, whatever else it carries", () => {
    for (const url of [
      '/apps/1/events?auth_key=k&auth_signature=abc',
      '/apps/1/channels?auth_signature=',
      '/apps/1/channels?AUTH_SIGNATURE=abc',
      '/apps/1/status?auth_key=k&auth_signature=abc',
    ]) {
      expect(apiVersionOf({ url })).toBe(PUSHER_API);
    }
  });

  it("routes any other request to the old API's", () => {
    for (const url of [
      '/apps/1/events',
      '/apps/1/events?auth_key=k',
      '/apps/1/channels?auth_signature_x=1',
      '/apps/1/auth_signature',
      undefined,
    ]) {
      expect(apiVersionOf({ url })).toBe(ECHO_API);
    }
  });

  it("routes a signed request with the key of an app without a secret to the old API's, as the old server took it", () => {
    const withoutSecret = new Set([keyDigest('legacy-key')]);
    expect(apiVersionOf({ url: '/apps/1/events?auth_key=legacy-key&auth_signature=abc' }, withoutSecret)).toBe(
      ECHO_API,
    );
    expect(apiVersionOf({ url: '/apps/1/events?auth_key=shop-key&auth_signature=abc' }, withoutSecret)).toBe(
      PUSHER_API,
    );
    expect(apiVersionOf({ url: '/apps/1/events?auth_signature=abc' }, withoutSecret)).toBe(PUSHER_API);
  });
});
