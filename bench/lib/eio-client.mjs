// @ts-check
// Minimal socket.io client speaking Engine.IO 3 or 4 framing directly over a
// raw `ws` WebSocket. It does only what a Laravel Echo subscriber does on the
// wire: open, connect the default namespace, `subscribe`, answer/emit pings,
// and hand event frames to the caller as raw Buffers (no JSON parsing).
//
// EIO=4: server `0{...}` -> client `40` -> server `40{"sid":..}`;
//        server pings `2`, client answers `3`. With a `RecoveryState`, as socket.io-client >= 4.6:
//        the server's `pid` is kept, with the last string argument of each event as the offset,
//        and a reconnect sends `40{"pid":..,"offset":..}`; the session was restored when the
//        server answers with the same pid.
// EIO=3: server `0{...}` then `40` unprompted; the CLIENT pings `2` every
//        pingInterval and the server answers `3`.

import WebSocket from 'ws';

const CH_0 = 0x30; // '0' open / connect
const CH_1 = 0x31; // '1' close
const CH_2 = 0x32; // '2' ping / event
const CH_3 = 0x33; // '3' pong
const CH_4 = 0x34; // '4' message / connect_error
const CH_6 = 0x36; // '6' noop

// Pusher protocol events, found by indexOf in a frame's bytes.
const PUSHER_EVENT = Buffer.from('"event":"pusher');
const ESTABLISHED = Buffer.from('"pusher:connection_established"');
const PING = Buffer.from('"pusher:ping"');
const ERROR = Buffer.from('"pusher:error"');
const SUBSCRIPTION_ERROR = Buffer.from('"pusher:subscription_error"');
const PING_FRAME = JSON.stringify({ event: 'pusher:ping', data: {} });
const PONG_FRAME = JSON.stringify({ event: 'pusher:pong', data: {} });

/**
 * Client kinds: socket.io clients speaking Engine.IO 3 or 4, or Pusher protocol 7 clients (what
 * pusher-js and Echo's `pusher`/`reverb` broadcasters speak) on the same channels.
 * @typedef {3|4|'pusher'} ClientKind
 */

/**
 * How reports and logs name a client kind: `EIO4`, `EIO3`, `Pusher`.
 * @param {ClientKind} eio
 * @returns {string}
 */
export function kindLabel(eio) {
  return eio === 'pusher' ? 'Pusher' : `EIO${eio}`;
}

/** App key of the Pusher clients: the target must list `{key: PUSHER_KEY, secret}` in its `clients`. */
export const PUSHER_KEY = 'bench-key';
export const PUSHER_SECRET = 'bench-secret';
export const PUSHER_APP_ID = 'bench-app';

/**
 * WebSocket URL of a socket.io server on loopback, or of its Pusher endpoint.
 * @param {number} port
 * @param {ClientKind} eio
 * @returns {string}
 */
export function wsUrl(port, eio) {
  if (eio === 'pusher')
    return `ws://127.0.0.1:${port}/app/${PUSHER_KEY}?protocol=7&client=js&version=8.4.0&flash=false`;
  return `ws://127.0.0.1:${port}/socket.io/?EIO=${eio}&transport=websocket`;
}

/**
 * The frame a client sends to subscribe to a public channel: Laravel Echo's `subscribe` event, or
 * pusher-js's `pusher:subscribe`.
 * @param {string} channel
 * @param {ClientKind} [eio]
 * @returns {string}
 */
export function subscribeFrame(channel, eio = 4) {
  if (eio === 'pusher') return JSON.stringify({ event: 'pusher:subscribe', data: { channel } });
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
/** The same inside a JSON string: Pusher frames carry `data` as text, its quotes escaped. */
const SEQ_MARK_ESCAPED = Buffer.from('\\"seq\\":');

/** Result slots of {@link readStamp} (reused, no allocation per frame). */
export const stamp = { seq: 0, step: 0, ts: 0 };

/**
 * Extract seq, step and ts (epoch µs) from an event frame such as
 * `42["App\\Events\\Bench","bench-1",{"seq":7,"step":2,"ts":1732...,"pad":"..."}]`, or a Pusher
 * frame whose `data` string holds the same object (`{\"seq\":7,\"step\":2,...}`), with one or two
 * indexOf and a byte scan. Results land in {@link stamp}.
 * @param {Buffer} buf
 * @returns {boolean} false when the frame carries no stamp
 */
export function readStamp(buf) {
  let i = buf.indexOf(SEQ_MARK, 4);
  // `,"step":` and `,"ts":`, or with escaped quotes `,\"step\":` and `,\"ts\":`
  let escaped = 0;
  if (i < 0) {
    i = buf.indexOf(SEQ_MARK_ESCAPED, 4);
    if (i < 0) return false;
    escaped = 2;
    i += 8;
  } else i += 6;
  let n = 0;
  let c;
  while ((c = buf[i]) >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    i++;
  }
  stamp.seq = n;
  i += 8 + escaped;
  n = 0;
  while ((c = buf[i]) >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    i++;
  }
  stamp.step = n;
  i += 6 + escaped;
  n = 0;
  while ((c = buf[i]) >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    i++;
  }
  stamp.ts = n;
  return true;
}

/**
 * What socket.io-client >= 4.6 keeps across reconnects for connection-state recovery, owned by the
 * caller and updated by each `EioConnection` given it: the `pid` of the last CONNECT reply and the
 * last string an event ended with (the server's offset; socket.io-client takes any trailing string).
 * @typedef {{pid?: string, offset?: string}} RecoveryState
 */

/** `"]`: how an event whose last argument is a string ends. */
const STRING_END = 0x22;
const ARRAY_END = 0x5d;

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
   * @param {ClientKind} eio
   * @param {string[]} subscribeFrames frames sent right after the namespace connects
   * @param {EioHooks} hooks
   * @param {any} [tag] caller data (e.g. the client's channel indices)
   * @param {RecoveryState} [recovery] Engine.IO 4 only: recover the session it holds, and keep it up to date
   */
  constructor(url, eio, subscribeFrames, hooks, tag, recovery) {
    this.eio = eio;
    this.recovery = eio === 4 ? recovery : undefined;
    /** Whether the server restored the session `recovery` held (its CONNECT reply kept the pid). */
    this.recovered = false;
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
    if (this.eio === 'pusher') {
      this.onPusherFrame(buf);
      return;
    }
    const c0 = buf[0];
    if (c0 === CH_4) {
      const c1 = buf[1];
      if (c1 === CH_2) {
        if (this.recovery) this.keepOffset(buf);
        this.hooks.onEvent(this, buf);
      } else if (c1 === CH_0 && !this.connected) {
        this.connected = true;
        if (this.recovery) this.keepPid(buf);
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
      if (this.eio === 4) this.ws.send(this.recovery?.pid ? `40${JSON.stringify(this.recovery)}` : '40');
    } else if (c0 === CH_1) {
      this.close('server close packet');
    } else if (c0 !== CH_3 && c0 !== CH_6) {
      // unknown packet type: ignore
    }
  }

  /**
   * The CONNECT reply `40{"sid":..,"pid":..}`: the session was restored if the pid is the one sent.
   * @param {Buffer} buf
   */
  keepPid(buf) {
    const recovery = /** @type {RecoveryState} */ (this.recovery);
    let pid;
    try {
      pid = JSON.parse(buf.toString('utf8', 2)).pid;
    } catch {
      /* no payload: a server without recovery */
    }
    this.recovered = pid !== undefined && pid === recovery.pid;
    // As socket.io-client: the offset stays until an event brings a newer one.
    recovery.pid = typeof pid === 'string' ? pid : undefined;
  }

  /**
   * An event ending with a string argument (`...,"<offset>"]`): that string is the offset to come back from.
   * @param {Buffer} buf
   */
  keepOffset(buf) {
    const end = buf.length - 1;
    if (buf[end] !== ARRAY_END || buf[end - 1] !== STRING_END) return;
    const start = buf.lastIndexOf(STRING_END, end - 2);
    if (start > 0 && buf[start - 1] === 0x2c)
      /** @type {RecoveryState} */ (this.recovery).offset = buf.toString('utf8', start + 1, end - 1);
  }

  /**
   * A Pusher protocol frame: `pusher:connection_established` connects (subscribes go out), the
   * server's `pusher:ping` is answered, `pusher:error` closes, and anything else that is not a
   * `pusher:`/`pusher_internal:` event is an app event for the hooks.
   * @param {Buffer} buf
   */
  onPusherFrame(buf) {
    if (buf.indexOf(PUSHER_EVENT) < 0) {
      this.hooks.onEvent(this, buf);
      return;
    }
    if (buf.indexOf(ESTABLISHED) >= 0 && !this.connected) {
      this.connected = true;
      for (const f of this.subs) this.ws.send(f);
      this.hooks.onConnected(this);
    } else if (buf.indexOf(PING) >= 0) {
      this.ws.send(PONG_FRAME);
    } else if (buf.indexOf(ERROR) >= 0 || buf.indexOf(SUBSCRIPTION_ERROR) >= 0) {
      this.close(`pusher error ${buf.toString()}`);
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
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(this.eio === 'pusher' ? PING_FRAME : '2');
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
