// @ts-check
// Minimal socket.io client speaking Engine.IO 3 or 4 framing directly over a
// raw `ws` WebSocket. It does only what a Laravel Echo subscriber does on the
// wire: open, connect the default namespace, `subscribe`, answer/emit pings,
// and hand event frames to the caller as raw Buffers (no JSON parsing).
//
// EIO=4: server `0{...}` -> client `40` -> server `40{"sid":..}`;
//        server pings `2`, client answers `3`.
// EIO=3: server `0{...}` then `40` unprompted; the CLIENT pings `2` every
//        pingInterval and the server answers `3`.

import WebSocket from 'ws';

const CH_0 = 0x30; // '0' open / connect
const CH_1 = 0x31; // '1' close
const CH_2 = 0x32; // '2' ping / event
const CH_3 = 0x33; // '3' pong
const CH_4 = 0x34; // '4' message / connect_error
const CH_6 = 0x36; // '6' noop

/**
 * WebSocket URL of a socket.io server on loopback.
 * @param {number} port
 * @param {3|4} eio
 * @returns {string}
 */
export function wsUrl(port, eio) {
  return `ws://127.0.0.1:${port}/socket.io/?EIO=${eio}&transport=websocket`;
}

/**
 * The `subscribe` event frame Laravel Echo sends for a channel.
 * @param {string} channel
 * @returns {string}
 */
export function subscribeFrame(channel) {
  return `42["subscribe",{"channel":${JSON.stringify(channel)},"auth":{"headers":{}}}]`;
}

/**
 * `subscribe` or `unsubscribe` frame with auth headers, as Laravel Echo sends
 * them for private and presence channels.
 * @param {'subscribe'|'unsubscribe'} event
 * @param {string} channel
 * @param {Record<string, string>} headers
 * @returns {string}
 */
export function channelFrame(event, channel, headers) {
  return `42${JSON.stringify([event, { channel, auth: { headers } }])}`;
}

const SEQ_MARK = Buffer.from('"seq":');

/** Result slots of {@link readStamp} (reused, no allocation per frame). */
export const stamp = { seq: 0, step: 0, ts: 0 };

/**
 * Extract seq, step and ts (epoch µs) from an event frame such as
 * `42["App\\Events\\Bench","bench-1",{"seq":7,"step":2,"ts":1732...,"pad":"..."}]`
 * with one indexOf and a byte scan. Results land in {@link stamp}.
 * @param {Buffer} buf
 * @returns {boolean} false when the frame carries no stamp
 */
export function readStamp(buf) {
  let i = buf.indexOf(SEQ_MARK, 4);
  if (i < 0) return false;
  i += 6;
  let n = 0;
  let c;
  while ((c = buf[i]) >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    i++;
  }
  stamp.seq = n;
  i += 8; // ,"step":
  n = 0;
  while ((c = buf[i]) >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    i++;
  }
  stamp.step = n;
  i += 6; // ,"ts":
  n = 0;
  while ((c = buf[i]) >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    i++;
  }
  stamp.ts = n;
  return true;
}

/**
 * @typedef {object} EioHooks
 * @property {(conn: EioConnection) => void} onConnected namespace connected (subscribes already sent)
 * @property {(conn: EioConnection, frame: Buffer) => void} onEvent an event frame (`42[...]`)
 * @property {(conn: EioConnection, wasConnected: boolean, reason: string) => void} onClosed
 */

/** One socket.io client connection. */
export class EioConnection {
  /**
   * @param {string} url from {@link wsUrl}
   * @param {3|4} eio
   * @param {string[]} subscribeFrames frames sent right after the namespace connects
   * @param {EioHooks} hooks
   * @param {any} [tag] caller data (e.g. the client's channel indices)
   */
  constructor(url, eio, subscribeFrames, hooks, tag) {
    this.eio = eio;
    this.hooks = hooks;
    this.tag = tag;
    this.subs = subscribeFrames;
    this.connected = false;
    this.closed = false;
    /** Set by the owner before a close it asked for, so the close is not counted as a drop. */
    this.intentional = false;
    /** Engine.IO ping interval announced by the server (ms). */
    this.pingInterval = 25_000;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: 30_000,
      maxPayload: 1 << 20,
    });
    this.ws = ws;
    // Without a binaryType set, ws delivers every message as one Buffer.
    ws.on('message', (data) => this.onFrame(/** @type {Buffer} */ (data)));
    ws.on('close', () => this.finish('closed'));
    ws.on('error', (err) => this.finish(/** @type {NodeJS.ErrnoException} */ (err).code || err.message));
  }

  /** @param {Buffer} buf */
  onFrame(buf) {
    const c0 = buf[0];
    if (c0 === CH_4) {
      const c1 = buf[1];
      if (c1 === CH_2) this.hooks.onEvent(this, buf);
      else if (c1 === CH_0 && !this.connected) {
        this.connected = true;
        for (const f of this.subs) this.ws.send(f);
        this.hooks.onConnected(this);
      } else if (c1 === CH_4) this.close(`connect_error ${buf.toString()}`);
    } else if (c0 === CH_2) {
      this.ws.send('3');
    } else if (c0 === CH_0) {
      try {
        const open = JSON.parse(buf.toString('utf8', 1));
        if (open.pingInterval) this.pingInterval = open.pingInterval;
      } catch {
        /* keep default */
      }
      if (this.eio === 4) this.ws.send('40');
    } else if (c0 === CH_1) {
      this.close('server close packet');
    } else if (c0 !== CH_3 && c0 !== CH_6) {
      // unknown packet type: ignore
    }
  }

  /**
   * Send a frame if the socket is open.
   * @param {string} frame
   * @returns {boolean} false when the WebSocket is not open
   */
  send(frame) {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(frame);
    return true;
  }

  /** EIO3 only: client-initiated heartbeat. */
  ping() {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send('2');
  }

  /** @param {string} reason */
  finish(reason) {
    if (this.closed) return;
    this.closed = true;
    this.hooks.onClosed(this, this.connected, reason);
  }

  /**
   * Close the connection (terminate: no closing handshake to wait for).
   * @param {string} [reason]
   */
  close(reason = 'client close') {
    this.finish(reason);
    this.ws.terminate();
  }
}
