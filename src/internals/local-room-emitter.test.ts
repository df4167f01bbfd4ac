/**
 * Written against ws 8.21.3 (see WRITTEN_AGAINST in ./written-against.ts): the frame
 * LocalRoomEmitter builds is checked, byte for byte, against the one ws's static `Sender.frame`
 * builds. Its use of ws, engine.io and socket.io internals: ./local-room-emitter.contract.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { webSocketTextFrame } from './local-room-emitter.js';

// ws's ESM entry leaves out the static Sender that engine.io and socket.io-adapter use.
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: { frame(data: Buffer, o: object): Buffer[] } };

/** The frame `ws` itself builds for an unmasked final text message, as one buffer. */
function wsFrame(text: string): Buffer {
  const options = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };
  return Buffer.concat(Sender.frame(Buffer.from(text), options));
}

describe('webSocketTextFrame', () => {
  // 7-bit, 16-bit and 64-bit payload lengths and the edges between them.
  for (const length of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    it(`matches ws's own frame for a ${length}-byte payload`, () => {
      const text = 'x'.repeat(length);
      expect(webSocketTextFrame(text)).toEqual(wsFrame(text));
    });
  }

  it('counts the length in UTF-8 bytes, not in characters', () => {
    const text = '42["message","i18n",{"text":"Grüße, 支付成功 😀"}]'.repeat(4);
    const frame = webSocketTextFrame(text);
    expect(frame).toEqual(wsFrame(text));
    expect(frame.subarray(4).toString('utf8')).toBe(text);
  });
});
