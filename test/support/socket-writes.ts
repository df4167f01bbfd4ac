import type { Socket } from 'node:net';

type WriteGeneric = (writev: boolean, data: unknown, encoding: string, cb: (err?: Error) => void) => void;

/**
 * Records, in `into`, the text of every write `socket` hands to the kernel, one entry per call:
 * each goes through `net.Socket#_writeGeneric` (one `write`, or one `writev` whose chunks are
 * joined here). Install it before anything is written, e.g. from an 'upgrade' listener put ahead
 * of all others (`prependListener`).
 */
export function recordWrites(socket: Socket, into: string[]): void {
  const target = socket as unknown as { _writeGeneric: WriteGeneric };
  const original = target._writeGeneric;
  target._writeGeneric = function (this: Socket, writev, data, encoding, cb) {
    into.push(textOf(writev, data));
    return original.call(this, writev, data, encoding, cb);
  };
}

function textOf(writev: boolean, data: unknown): string {
  if (!writev) return Buffer.isBuffer(data) ? data.toString('latin1') : String(data);
  return (data as { chunk: Buffer | string }[])
    .map(({ chunk }) => (Buffer.isBuffer(chunk) ? chunk.toString('latin1') : chunk))
    .join('');
}
