import { describe, expect, it } from '@jest/globals';
import { whisperBytes } from './whisper.service.js';

describe('whisperBytes', () => {
  it('counts the UTF-8 JSON text', () => {
    const body = { channel: 'private-a', event: 'client-typing', data: { text: 'é' } };
    expect(whisperBytes(body)).toBe(Buffer.byteLength(JSON.stringify(body)));
  });

  it('counts Buffers, ArrayBuffers and typed arrays by their bytes, wherever they sit in data', () => {
    const base = { channel: 'private-a', event: 'client-file', data: { file: 0 } };
    const text = Buffer.byteLength(JSON.stringify(base));
    expect(whisperBytes({ ...base, data: { file: Buffer.alloc(1000) } })).toBe(text + 1000);
    expect(whisperBytes({ ...base, data: { file: new ArrayBuffer(500) } })).toBe(text + 500);
    expect(whisperBytes({ ...base, data: { file: new Uint16Array(10) } })).toBe(text + 20);
    const nested = { ...base, data: { file: [Buffer.alloc(300), { deep: Buffer.alloc(700) }] } };
    expect(whisperBytes(nested)).toBeGreaterThanOrEqual(1000);
    expect(whisperBytes(nested)).toBeLessThan(1000 + 100);
  });
});
