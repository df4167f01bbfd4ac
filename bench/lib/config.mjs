// @ts-check
// Run parameters: full defaults, the --quick profile, and overrides from
// command-line flags (--name=value) or BENCH_* environment variables.

import { nofileLimit } from './proc.mjs';

/** Full-run defaults (30-45 minutes for bare + laravel-echo-server on 2 cores). */
export const FULL = {
  mode: 'full',
  targets: ['bare', 'laravel-echo-server', 'echo-relay'],
  scenarios: ['s1', 's1max', 's2', 's2small', 's3', 's4', 's5'],
  workers: 2, // load-generator worker threads
  dataBytes: 256, // size of the `data` object in each broadcast
  connectConcurrency: 200, // in-flight handshakes per worker
  connectTimeoutMs: 120_000,
  probeTimeoutMs: 30_000,
  drainQuietMs: 1000, // a step ends when nothing arrived for this long...
  maxDrainMs: 10_000, // ...or this long after publishing stopped
  settleMs: 1000, // pause between steps (extended until late deliveries stop)
  saturationLossPct: 1, // stop climbing rates past a step with more loss...
  saturationP99Ms: 1000, // ...or a higher median p99
  quiet: { maxPct: 15, maxWaitMs: 60_000, windowMs: 500 }, // before each step, wait for other processes to calm down
  maxMinutes: 75, // scenarios wind down after this; hard stop 5 min later
  echoRelayRoot: '',
  out: '', // BENCHMARKS.md path (default: repo root)
  s1: { connections: 5000, channels: 100, reps: 3, settleMs: 2000, idleMs: 5000 },
  s1max: { levels: [5000, 10000, 15000, 20000], channels: 100, holdMs: 30_000, settleMs: 2000 },
  s2: { subscribers: 2000, rates: [10, 20, 30, 40, 60, 80], reps: 3, stepMs: 8000, warmupMs: 2000 },
  s2small: { subscribers: 500, rates: [40, 80, 120, 160, 240, 320], reps: 3, stepMs: 8000, warmupMs: 2000 },
  s3: { clients: 2000, rate: 2000, sharedRate: 10, reps: 3, stepMs: 8000, warmupMs: 2000 },
  // users spread round-robin over the rooms; the first doubleUsers of them open a second socket in
  // the same room. churnShare of the sockets churn (disconnectShare of those by closing the
  // connection instead of unsubscribing) at churnRate joins/s for churnMs; half of the churners end
  // absent. joinConcurrency: subscribes in flight per load-generator thread in the initial join.
  s4: {
    rooms: 50,
    users: 750,
    doubleUsers: 250,
    churnShare: 0.5,
    disconnectShare: 0.25,
    churnRate: 200,
    churnMs: 30_000,
    gapMs: 100,
    settleMs: 2000,
    joinConcurrency: 50,
    joinTimeoutMs: 30_000,
  },
  // clients: 0 = as many as the descriptor limit allows (see loadConfig). Each client is on a public
  // channel and a presence room of roomSize users each, and on its own private channel.
  // Auth answers wait authDelayMinMs..authDelayMaxMs; reconnects follow socket.io-client's backoff
  // (reconnectionDelay / reconnectionDelayMax). probeMs: how often pending subscribes are probed.
  // publicOnly: every target subscribes its public channel only, as the bare floor does.
  // recovery: Engine.IO 4 clients ask for their session back on reconnect, as socket.io-client >= 4.6
  // does on its own whenever the server's CONNECT reply carried a pid (a server with recovery on).
  s5: {
    clients: 0,
    publicOnly: false,
    recovery: true,
    roomSize: 10,
    authDelayMinMs: 5,
    authDelayMaxMs: 20,
    authKeepAlive: true,
    reconnectDelayMs: 1000,
    reconnectDelayMaxMs: 5000,
    probeMs: 50,
    settleMs: 2000,
    timeoutMs: 120_000,
  },
};

/** --quick: the same scenarios minus the long ones, smaller and shorter (under 2 minutes for two targets). */
export const QUICK = {
  mode: 'quick',
  scenarios: ['s1', 's2', 's3', 's4', 's5'],
  drainQuietMs: 500,
  maxDrainMs: 5000,
  settleMs: 300,
  quiet: { maxPct: 15, maxWaitMs: 5000, windowMs: 200 },
  maxMinutes: 6,
  s1: { connections: 2000, channels: 100, reps: 1, settleMs: 500, idleMs: 1000 },
  s1max: { levels: [5000, 10000], channels: 100, holdMs: 5000, settleMs: 1000 },
  s2: { subscribers: 1000, rates: [20, 50, 80], reps: 3, stepMs: 1000, warmupMs: 1000 },
  s2small: { subscribers: 500, rates: [40, 100, 160], reps: 3, stepMs: 1000, warmupMs: 1000 },
  s3: { clients: 1000, rate: 1000, sharedRate: 10, reps: 3, stepMs: 1000, warmupMs: 1000 },
  s4: {
    rooms: 20,
    users: 300,
    doubleUsers: 100,
    churnShare: 0.5,
    disconnectShare: 0.25,
    churnRate: 100,
    churnMs: 8000,
    gapMs: 100,
    settleMs: 2000,
    joinConcurrency: 50,
    joinTimeoutMs: 15_000,
  },
  s5: { ...FULL.s5, clients: 1000, settleMs: 1000, timeoutMs: 60_000 },
};

/** @param {string} v */
const list = (v) =>
  String(v)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
/** @param {string} v */
const nums = (v) => list(v).map(Number);

/**
 * flag name -> [config path (or paths), parser]
 * @type {Record<string, [string[] | string[][], (v: string) => unknown]>}
 */
const FLAGS = {
  targets: [['targets'], list],
  scenarios: [['scenarios'], list],
  workers: [['workers'], Number],
  'data-bytes': [['dataBytes'], Number],
  'max-minutes': [['maxMinutes'], Number],
  'echo-relay-root': [['echoRelayRoot'], String],
  out: [['out'], String],
  'connect-concurrency': [['connectConcurrency'], Number],
  'quiet-max-pct': [['quiet', 'maxPct'], Number],
  'quiet-max-wait-ms': [['quiet', 'maxWaitMs'], Number],
  reps: [
    [
      ['s1', 'reps'],
      ['s2', 'reps'],
      ['s2small', 'reps'],
      ['s3', 'reps'],
    ],
    Number,
  ],
  'step-ms': [
    [
      ['s2', 'stepMs'],
      ['s2small', 'stepMs'],
      ['s3', 'stepMs'],
    ],
    Number,
  ],
  's1-connections': [['s1', 'connections'], Number],
  's1-channels': [
    [
      ['s1', 'channels'],
      ['s1max', 'channels'],
    ],
    Number,
  ],
  's1-max': [['s1max', 'levels'], nums],
  's1-hold-ms': [['s1max', 'holdMs'], Number],
  's2-subscribers': [['s2', 'subscribers'], Number],
  's2-rates': [['s2', 'rates'], nums],
  's2-small-subscribers': [['s2small', 'subscribers'], Number],
  's2-small-rates': [['s2small', 'rates'], nums],
  's3-clients': [['s3', 'clients'], Number],
  's3-rate': [['s3', 'rate'], Number],
  's3-shared-rate': [['s3', 'sharedRate'], Number],
  's4-rooms': [['s4', 'rooms'], Number],
  's4-users': [['s4', 'users'], Number],
  's4-double-users': [['s4', 'doubleUsers'], Number],
  's4-churn-share': [['s4', 'churnShare'], Number],
  's4-churn-rate': [['s4', 'churnRate'], Number],
  's4-churn-ms': [['s4', 'churnMs'], Number],
  's4-settle-ms': [['s4', 'settleMs'], Number],
  's5-clients': [['s5', 'clients'], Number],
  's5-public-only': [['s5', 'publicOnly'], (v) => v !== 'false'],
  's5-room-size': [['s5', 'roomSize'], Number],
  's5-recovery': [['s5', 'recovery'], (v) => v !== 'false'],
  's5-auth-delay-min-ms': [['s5', 'authDelayMinMs'], Number],
  's5-auth-delay-max-ms': [['s5', 'authDelayMaxMs'], Number],
  's5-auth-keep-alive': [['s5', 'authKeepAlive'], (v) => v !== 'false'],
  's5-reconnect-delay-ms': [['s5', 'reconnectDelayMs'], Number],
  's5-reconnect-delay-max-ms': [['s5', 'reconnectDelayMaxMs'], Number],
  's5-probe-ms': [['s5', 'probeMs'], Number],
  's5-timeout-ms': [['s5', 'timeoutMs'], Number],
};

/**
 * Set a nested property, e.g. setPath(cfg, ['s2', 'rates'], [10, 20]).
 * @param {object} obj
 * @param {string[]} path
 * @param {unknown} value
 */
function setPath(obj, path, value) {
  let o = /** @type {Record<string, unknown>} */ (obj);
  for (const k of path.slice(0, -1)) o = /** @type {Record<string, unknown>} */ (o[k]);
  o[/** @type {string} */ (path.at(-1))] = value;
}

/** Usage text for --help. */
export function usage() {
  return [
    'usage: node bench/run.mjs [--quick] [--name=value ...]',
    '  --quick                  small, short run (~1.5 min for bare + laravel-echo-server)',
    '  --report-only=<json>     re-render BENCHMARKS.md from a results file',
    ...Object.keys(FLAGS).map((f) => `  --${f}=...  (env BENCH_${f.toUpperCase().replaceAll('-', '_')})`),
    `targets: ${FULL.targets.join(', ')}; scenarios: ${FULL.scenarios.join(', ')}`,
  ].join('\n');
}

/**
 * The run configuration: FULL, possibly overlaid with QUICK and flags, plus what loadConfig derives.
 * @typedef {typeof FULL & {
 *   help?: boolean,
 *   reportOnly?: string,
 *   fdCap: number,
 *   s1max: typeof FULL.s1max & {requestedMax?: number},
 * }} BenchConfig
 */

/**
 * Build the run configuration from argv and the environment.
 * @param {string[]} argv process.argv.slice(2)
 * @param {NodeJS.ProcessEnv} env
 * @returns {BenchConfig}
 */
export function loadConfig(argv, env) {
  /** @type {Map<string, string>} */
  const raw = new Map();
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('BENCH_') && v !== undefined) raw.set(k.slice(6).toLowerCase().replaceAll('_', '-'), v);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${usage()}`);
    const eq = a.indexOf('=');
    if (eq > 0) raw.set(a.slice(2, eq), a.slice(eq + 1));
    else if (FLAGS[a.slice(2)] && argv[i + 1] && !argv[i + 1].startsWith('--')) raw.set(a.slice(2), argv[++i]);
    else raw.set(a.slice(2), 'true');
  }
  const quick = raw.has('quick') && raw.get('quick') !== 'false';
  const cfg = /** @type {BenchConfig} */ (structuredClone(FULL));
  if (quick) {
    for (const [k, v] of Object.entries(structuredClone(QUICK))) /** @type {Record<string, unknown>} */ (cfg)[k] = v;
  }
  for (const [k, v] of raw) {
    if (k === 'quick' || k === 'redis-server') continue;
    if (k === 'help') cfg.help = true;
    else if (k === 'report-only') cfg.reportOnly = v;
    else if (FLAGS[k]) {
      const [paths, parse] = FLAGS[k];
      const all = /** @type {string[][]} */ (Array.isArray(paths[0]) ? paths : [paths]);
      for (const p of all) setPath(cfg, p, parse(v));
    } else if (!env[`BENCH_${k.toUpperCase().replaceAll('-', '_')}`]) {
      throw new Error(`unknown flag --${k}\n${usage()}`);
    }
  }
  // Both the load generator (this process) and the server hold one fd per
  // connection; stay under the lower of the two limits with some slack.
  const { soft, hard } = nofileLimit();
  cfg.fdCap = Math.min(soft, hard) - 150;
  const levels = cfg.s1max.levels.filter((l) => l <= cfg.fdCap);
  if (cfg.s1max.levels.some((l) => l > cfg.fdCap)) levels.push(cfg.fdCap);
  cfg.s1max.requestedMax = Math.max(...cfg.s1max.levels);
  cfg.s1max.levels = [...new Set(levels)];
  // S5: the server also holds its connections to the auth host, and the harness the stub's end of
  // them: keep 1,000 descriptors for those.
  if (!cfg.s5.clients) cfg.s5.clients = Math.max(1000, Math.floor((cfg.fdCap - 1000) / 1000) * 1000);
  return cfg;
}
