// @ts-check
// Render a results object (as stored in bench/results/*.json) to BENCHMARKS.md.

import { readFileSync } from 'node:fs';
import { kindLabel } from './eio-client.mjs';

/**
 * @typedef {import('./results.js').Results} Results
 * @typedef {import('./results.js').TargetResult} TargetResult
 * @typedef {import('./results.js').Spread} Spread
 * @typedef {import('./results.js').S4Result} S4Result
 * @typedef {import('./results.js').S5Result} S5Result
 * @typedef {import('./results.js').MemberCheck} MemberCheck
 * @typedef {(string|number)[]} Cells one table row
 */

/** @param {number|null|undefined} x */
const int = (x) => (x == null || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
/**
 * @param {number|null|undefined} x
 * @param {number} [d] decimals
 */
const fix = (x, d = 1) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));

/**
 * "median (min–max)" for a summary, formatted with `f`.
 * @param {{median: number|null, min: number|null, max: number|null, n: number}|undefined} s
 * @param {(x: number|null) => string} f
 * @returns {string}
 */
function spread(s, f) {
  if (!s || s.median == null) return '–';
  if (s.n < 2 || f(s.min) === f(s.max)) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** "Other CPU %" above which a step is marked as measured on a busy machine (any repetition). */
const NOISY_PCT = 25;
/** @param {{backgroundCpuPct?: Spread}|undefined} summary */
const noisy = (summary) => (summary?.backgroundCpuPct?.max ?? 0) > NOISY_PCT;

/** @param {Cells} cells */
const row = (cells) => `| ${cells.join(' | ')} |`;
/**
 * @param {string[]} head
 * @param {Cells[]} rows
 */
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

/** @param {Results} results */
function liveTargets(results) {
  return results.targets.filter((t) => !t.skipped);
}

/**
 * Ratio text "x.xx× bare" against the bare target's value for the same EIO.
 * @param {number|null|undefined} value
 * @param {number|null|undefined} base
 */
function ratio(value, base) {
  return value != null && base ? ` (${(value / base).toFixed(2)}×)` : '';
}

/**
 * Rates of a fan-out scenario that every target measured (for every protocol).
 * @param {Results} results
 * @param {'s2'|'s2small'} key scenario key
 * @returns {number[]}
 */
function commonRates(results, key) {
  /** @type {Set<number>|null} */
  let common = null;
  for (const t of liveTargets(results)) {
    for (const r of t.scenarios[key] ?? []) {
      const rates = new Set((r.steps ?? []).filter((st) => st.reps?.length).map((st) => st.rate));
      common = common ? new Set([...common].filter((/** @type {number} */ x) => rates.has(x))) : rates;
    }
  }
  return [...(common ?? [])].sort((a, b) => a - b);
}

/**
 * Deliveries per server CPU-second over the steps at the given rates
 * (total deliveries / total server CPU time).
 * @param {import('./results.js').FanOutResult|undefined} r fan-out result
 * @param {number[]} rates
 * @returns {number|null}
 */
function perCpuAt(r, rates) {
  let del = 0;
  let cpu = 0;
  for (const st of r?.steps ?? []) {
    if (!rates.includes(st.rate) || !st.reps) continue;
    for (const x of st.reps) {
      del += x.delivered;
      cpu += x.serverCpuSec;
    }
  }
  return cpu > 0 ? del / cpu : null;
}

/**
 * Summary table: one row per target and Engine.IO version.
 * @param {Results} results
 * @returns {string}
 */
function summary(results) {
  const bare = results.targets.find((t) => t.name === 'bare' && !t.skipped);
  /**
   * A target's successful run of a scenario with clients speaking `eio`.
   * @template {keyof import('./results.js').Scenarios} K
   * @param {TargetResult|undefined} t
   * @param {K} sc
   * @param {3|4} eio
   * @returns {NonNullable<import('./results.js').Scenarios[K]>[number]|undefined}
   */
  const find = (t, sc, eio) => {
    const list = /** @type {{eio: number, error?: string}[]|undefined} */ (t?.scenarios?.[sc]);
    return /** @type {NonNullable<import('./results.js').Scenarios[K]>[number]|undefined} */ (
      list?.find?.((x) => x.eio === eio && !x.error)
    );
  };
  const rates = commonRates(results, 's2');
  /** @type {Cells[]} */
  const rows = [];
  for (const t of liveTargets(results)) {
    for (const eio of t.eio) {
      const s1 = find(t, 's1', eio);
      const s2 = find(t, 's2', eio);
      const s3 = find(t, 's3', eio);
      const s4 = t.scenarios?.s4;
      const b2 = find(bare, 's2', eio);
      const b3 = find(bare, 's3', eio);
      rows.push([
        t.name,
        `EIO${eio}`,
        s2?.sustained ? `${int(s2.sustained.deliveriesPerSec)} @ ${s2.sustained.rate} msg/s` : s2 ? 'none' : '–',
        s2
          ? int(perCpuAt(s2, rates)) + (t.name !== 'bare' ? ratio(perCpuAt(s2, rates), perCpuAt(b2, rates)) : '')
          : '–',
        s1 ? fix(s1.summary.rssPerConnKiB.median) : '–',
        s1 ? int(s1.summary.connectRate.median) : '–',
        s3 ? fix(s3.summary.p99.median) : '–',
        s3
          ? int(s3.summary.perCpuSec.median) +
            (t.name !== 'bare' ? ratio(s3.summary.perCpuSec.median, b3?.summary.perCpuSec.median) : '')
          : '–',
        s4Summary(s4, eio),
        s5Summary(find(t, 's5', eio)),
      ]);
    }
  }
  return table(
    [
      'target',
      'clients',
      'S2 highest deliveries/s with p99 < 100 ms, no loss',
      `S2 deliveries per server CPU-s at ${rates.join(', ')} msg/s (× bare)`,
      'S1 KiB per idle connection',
      'S1 connects/s',
      'S3 p99 ms',
      'S3 deliveries per server CPU-s (× bare)',
      'S4 joins/s; ghosts / missing after churn',
      'S5 restart: s until all back; server CPU ms per reconnect',
    ],
    rows,
  );
}

/**
 * Summary cell for S4: joins/s of the initial join, and the end-of-churn check.
 * @param {S4Result[]|undefined} s4 the target's S4 results
 * @param {number} eio
 * @returns {string}
 */
function s4Summary(s4, eio) {
  if (!Array.isArray(s4)) return '–';
  if (s4[0]?.notApplicable) return 'n/a';
  const r = s4.find((x) => x.eio === eio);
  if (!r) return '–';
  if (r.error) return 'error';
  const joins = r.phaseA ? int(r.phaseA.joinsPerSec) : '–';
  if (r.final) return `${joins}; ${r.final.ghosts} / ${r.final.missing}`;
  return `${joins}; ${r.serverExited ? 'server exited' : 'not checked'}`;
}

/**
 * Summary cell for S5: seconds from SIGTERM until every client was back, and the new server's CPU per reconnect.
 * @param {S5Result|undefined} r the target's successful S5 run with these clients
 * @returns {string}
 */
function s5Summary(r) {
  const x = r?.restart;
  if (!x) return '–';
  return `${fix(x.seconds)}${x.notBack ? ` (${int(x.notBack)} not back)` : ''}; ${fix(x.cpuMsPerReconnect, 2)}${r.kinds.length < 3 ? ' (public only)' : ''}`;
}

/**
 * S1 table rows of one target, and the scenario parameters (from its last successful run).
 * @param {TargetResult} t
 * @returns {{rows: Cells[], params: import('./results.js').S1Result['params']|null}}
 */
function s1Rows(t) {
  /** @type {Cells[]} */
  const rows = [];
  let params = null;
  for (const r of t.scenarios.s1 ?? []) {
    if (r.error) {
      rows.push([t.name, kindLabel(r.eio), `error: ${r.error.split('\n')[0]}`, '', '', '', '', '']);
      continue;
    }
    params = r.params;
    const connected = r.reps.map((x) => x.connected);
    rows.push([
      t.name,
      kindLabel(r.eio),
      `${Math.min(...connected)}/${r.params.connections}`,
      spread(r.summary.connectRate, int),
      spread(r.summary.connectCpuMsPerConn, (x) => fix(x, 2)),
      spread(r.summary.rssPerConnKiB, fix),
      spread(r.summary.idleCpuPct, fix),
      spread(r.summary.readyMs, int),
    ]);
  }
  return { rows, params };
}

/**
 * "Largest connection count held" rows of one target.
 * @param {TargetResult} t
 * @returns {Cells[]}
 */
function s1MaxRows(t) {
  /** @type {Cells[]} */
  const rows = [];
  for (const r of t.scenarios.s1max ?? []) {
    if (r.error) {
      rows.push([t.name, kindLabel(r.eio), `error: ${r.error.split('\n')[0]}`, '', '', '']);
      continue;
    }
    const top = r.levels.filter((l) => l.ok).at(-1);
    const failed = r.levels.find((l) => !l.ok);
    rows.push([
      t.name,
      kindLabel(r.eio),
      r.maxHeld ? int(r.maxHeld) : 'none',
      top ? fix(top.rssPerConnKiB) : '–',
      r.hold
        ? `${int(r.hold.stillOpen)} open after ${r.hold.holdMs / 1000} s, idle CPU ${fix(r.hold.idleCpuPct)}%`
        : '–',
      failed
        ? `failed at ${int(failed.level)}: ${failed.failed} failed, ${failed.ready} ready`
        : r.levels.map((l) => int(l.level)).join(' → '),
    ]);
  }
  return rows;
}

/**
 * @param {Results} results
 * @returns {string}
 */
function s1Section(results) {
  /** @type {Cells[]} */
  const rows = [];
  /** @type {Cells[]} */
  const maxRows = [];
  /** @type {import('./results.js').S1Result['params']|null} */
  let params = null;
  for (const t of liveTargets(results)) {
    const s1 = s1Rows(t);
    rows.push(...s1.rows);
    params = s1.params ?? params;
    maxRows.push(...s1MaxRows(t));
  }
  const out = ['## S1 idle connections', ''];
  if (params) {
    out.push(
      `${int(params.connections)} connections, each subscribed to one of ${params.channels} channels, opened ${results.meta.config.connectConcurrency} at a time per load-generator thread; ` +
        `${params.reps} repetition(s), each on a freshly started server. RSS per connection = (server RSS after connect + ${params.settleMs / 1000} s − RSS before) / connections. ` +
        `Idle CPU measured over ${params.idleMs / 1000} s with the connections open (heartbeats only). Ready = until every client received a probe on its channel.`,
      '',
      table(
        [
          'target',
          'clients',
          'connected',
          'connects/s',
          'server CPU ms per connect',
          'KiB per connection',
          'idle server CPU %',
          'ready ms',
        ],
        rows,
      ),
      '',
    );
  }
  if (maxRows.length) {
    const m = results.meta.config;
    out.push(
      '### Largest connection count held',
      '',
      `Levels climbed on one server: ${m.s1max.levels.map(int).join(', ')} (asked for ${int(m.s1max.requestedMax)}; capped at ${int(m.fdCap)} because ` +
        `RLIMIT_NOFILE is ${int(results.meta.machine.nofile.soft)} soft / ${int(results.meta.machine.nofile.hard)} hard here and both the server and the load generator need one descriptor per connection). ` +
        `The top level is held for ${m.s1max.holdMs / 1000} s, longer than one heartbeat interval.`,
      '',
      table(['target', 'clients', 'largest count held', 'KiB per connection there', 'hold', 'levels'], maxRows),
      '',
    );
  }
  return out.join('\n');
}

/**
 * One table row per publish step of a fan-out (or S3) result.
 * @param {TargetResult} t
 * @param {{eio: import('./results.js').ClientKind, steps: import('./results.js').FanOutStep[]}} r
 * @returns {Cells[]}
 */
function stepRows(t, r) {
  /** @type {Cells[]} */
  const rows = [];
  for (const st of r.steps) {
    if (st.skipped) {
      rows.push([t.name, kindLabel(r.eio), st.rate, '', `skipped: ${st.skipped}`, '', '', '', '', '', '', '']);
      continue;
    }
    const s = st.summary;
    rows.push([
      t.name,
      kindLabel(r.eio),
      noisy(s) ? `${st.rate} †` : st.rate,
      int(st.targetDeliveriesPerSec),
      spread(s.deliveriesPerSec, int),
      spread(s.p50, fix),
      spread(s.p99, fix),
      spread(s.lossPct, (x) => fix(x, 2)),
      spread(s.serverCpuPct, (x) => fix(x, 0)),
      spread(s.perCpuSec, int),
      spread(s.loadgenCpuPct, (x) => fix(x, 0)),
      spread(s.backgroundCpuPct, (x) => fix(x, 0)),
    ]);
  }
  return rows;
}

const NOISE_NOTE = `† "other CPU %" above ${NOISY_PCT}% in at least one repetition: something else was loading the machine, treat that step's latency and throughput with caution.\n`;

const STEP_HEAD = [
  'target',
  'clients',
  'msg/s',
  'offered deliveries/s',
  'delivered/s',
  'p50 ms',
  'p99 ms',
  'loss %',
  'server CPU %',
  'deliveries per server CPU-s',
  'load-gen CPU %',
  'other CPU %',
];

/**
 * @param {Results} results
 * @param {'s2'|'s2small'} key
 * @param {string} title
 * @returns {string}
 */
function s2Section(results, key, title) {
  /** @type {Cells[]} */
  const rows = [];
  /** @type {string[]} */
  const best = [];
  /** @type {import('./results.js').FanOutResult['params']|null} */
  let params = null;
  for (const t of liveTargets(results)) {
    for (const r of t.scenarios[key] ?? []) {
      if (r.error) {
        rows.push([t.name, kindLabel(r.eio), `error: ${r.error.split('\n')[0]}`, ...Array(9).fill('')]);
        continue;
      }
      params = r.params;
      rows.push(...stepRows(t, r));
      best.push(
        `- ${t.name} ${kindLabel(r.eio)}: ${r.sustained ? `${int(r.sustained.deliveriesPerSec)} deliveries/s at ${r.sustained.rate} msg/s (p99 ${fix(r.sustained.p99)} ms)` : 'no step met p99 < 100 ms without loss'}; ${int(r.perCpuSecAll)} deliveries per server CPU-second over all its steps.`,
      );
    }
  }
  if (!params) return '';
  return [
    `## ${title}`,
    '',
    `${int(params.subscribers)} clients subscribed to one channel; each publish carries a ${results.meta.config.dataBytes}-byte \`data\` object and is delivered to every client. ` +
      `Each rate runs ${params.reps} × ${params.stepMs / 1000} s after a ${params.warmupMs / 1000} s warm-up; cells show median (min–max). ` +
      `Climbing stops after a rate whose median loss exceeds ${results.meta.config.saturationLossPct}% or median p99 exceeds ${results.meta.config.saturationP99Ms} ms.`,
    '',
    table(STEP_HEAD, rows),
    '',
    rows.some((r) => String(r[2]).includes('†')) ? NOISE_NOTE : '',
    'Highest sustained rate (median p99 < 100 ms, zero loss in every repetition):',
    '',
    ...best,
    '',
  ].join('\n');
}

/**
 * @param {Results} results
 * @returns {string}
 */
function s3Section(results) {
  /** @type {Cells[]} */
  const rows = [];
  /** @type {import('./results.js').S3Result['params']|null} */
  let params = null;
  for (const t of liveTargets(results)) {
    for (const r of t.scenarios.s3 ?? []) {
      if (r.error) {
        rows.push([t.name, kindLabel(r.eio), `error: ${r.error.split('\n')[0]}`, ...Array(9).fill('')]);
        continue;
      }
      params = r.params;
      rows.push(
        ...stepRows(t, {
          eio: r.eio,
          steps: [
            { rate: r.params.rate, targetDeliveriesPerSec: r.reps[0]?.targetDeliveriesPerSec, summary: r.summary },
          ],
        }),
      );
    }
  }
  if (!params) return '';
  return [
    '## S3 many channels',
    '',
    `${int(params.clients)} clients, each on its own channel and all on one shared channel (${int(params.clients + 1)} rooms). ` +
      `${int(params.rate)} msg/s in total: ${params.sharedRate}/s to the shared channel (× ${int(params.clients)} deliveries), the rest round-robin over the own channels. ` +
      `${params.reps} × ${params.stepMs / 1000} s; median (min–max).`,
    '',
    table(STEP_HEAD, rows),
    '',
    rows.some((r) => String(r[2]).includes('†')) ? NOISE_NOTE : '',
  ].join('\n');
}

/**
 * "a / b ms" for two latencies.
 * @param {number|null|undefined} a
 * @param {number|null|undefined} b
 */
const pair = (a, b) => (a == null && b == null ? '–' : `${fix(a)} / ${fix(b)}`);

/**
 * "ghosts / missing" of a member check, with the member lists the clients hold.
 * @param {MemberCheck|null|undefined} c result of checkMembers
 * @returns {string[]} two cells
 */
function checkCells(c) {
  if (!c) return ['–', '–'];
  const v = c.views;
  const obs = `${c.ghosts} / ${c.missing}${c.observerErrors.length ? ` (${c.observerErrors.length} rooms unreadable)` : ''}`;
  const entries = [];
  if (v.missingEntries) entries.push(`${int(v.missingEntries)} missing`);
  if (v.ghostEntries) entries.push(`${int(v.ghostEntries)} ghost`);
  return [obs, `${int(v.stale)} of ${int(v.checked)}${entries.length ? ` (${entries.join(', ')} entries)` : ''}`];
}

/**
 * S4 performance row of one successful run.
 * @param {TargetResult} t
 * @param {S4Result} r
 * @returns {Cells}
 */
function s4PerfRow(t, r) {
  const a = r.phaseA;
  const c = r.churn;
  return [
    t.name,
    kindLabel(r.eio),
    a ? `${int(a.joinsPerSec)}${(a.backgroundCpuPct ?? 0) > NOISY_PCT ? ' †' : ''}` : '–',
    a ? pair(a.p50, a.p99) : '–',
    a ? `${fix(a.cpuMsPerJoin, 2)} (+${fix(a.redisCpuMsPerJoin, 2)})` : '–',
    r.serverExited && !r.final
      ? 'server exited'
      : c
        ? `${int(c.joinsPerSec)} of ${int(c.offeredRate)}${(c.backgroundCpuPct ?? 0) > NOISY_PCT ? ' †' : ''}`
        : '–',
    c && c.joins ? pair(c.p50, c.p99) : '–',
    c && c.joins && c.cpuMsPerCycle >= 0 ? `${fix(c.cpuMsPerCycle, 2)} (+${fix(c.redisCpuMsPerCycle, 2)})` : '–',
    int(r.errors),
  ];
}

/**
 * Notes under the S4 tables for one successful run: a server that exited, errors by kind,
 * ghosts and missing members, and when the sockets with stale member lists joined.
 * @param {TargetResult} t
 * @param {S4Result} r
 * @returns {string[]}
 */
function s4Notes(t, r) {
  /** @type {string[]} */
  const notes = [];
  if (r.serverExited)
    notes.push(
      `- ${t.name} ${kindLabel(r.eio)}: the server process exited ${r.final ? 'at the end' : r.churn ? 'during the churn' : r.afterJoin ? 'at the start of the churn' : 'during the joins'}: \`${r.serverExited.error}\`.`,
    );
  /** @type {Record<string, number>} */
  const errs = {};
  for (const x of [r.phaseA, r.churn, r.churn?.tail]) {
    for (const [k, v] of Object.entries(x?.statuses ?? {})) errs[k] = (errs[k] ?? 0) + v;
  }
  const unanswered = (r.phaseA?.timeouts ?? 0) + (r.churn?.unsettled ?? 0);
  if (unanswered) errs['subscribe never answered'] = unanswered;
  if (Object.keys(errs).length)
    notes.push(
      `- ${t.name} ${kindLabel(r.eio)} errors: ${Object.entries(errs)
        .map(([k, v]) => `${k} × ${v}`)
        .join(', ')}.`,
    );
  /** @type {[string, MemberCheck|undefined][]} */
  const checks = [
    ['after the joins', r.afterJoin],
    ['after the churn', r.final],
  ];
  for (const [when, ch] of checks) {
    if (ch && (ch.ghosts || ch.missing))
      notes.push(
        `- ${t.name} ${kindLabel(r.eio)} ${when}: ${ch.ghosts ? `ghosts e.g. ${ch.ghostSample.slice(0, 3).join(', ')}` : ''}${ch.ghosts && ch.missing ? '; ' : ''}${ch.missing ? `missing e.g. ${ch.missingSample.slice(0, 3).join(', ')}` : ''}.`,
      );
  }
  const byPhase = r.final?.views.staleByPhase ?? {};
  if (Object.keys(byPhase).length)
    notes.push(
      `- ${t.name} ${kindLabel(r.eio)}: the stale client lists after the churn belong to sockets that last joined ${Object.entries(
        byPhase,
      )
        .map(([k, v]) => `${k === 'join' ? 'in the initial join' : 'during the churn'} (${v})`)
        .join(' and ')}.`,
    );
  return notes;
}

/**
 * The paragraph and list that describe how S4 ran, from the parameters of a successful run.
 * @param {S4Result} r0
 * @param {number} workers load-generator threads
 * @returns {string[]}
 */
function s4Method(r0, workers) {
  const params = r0.params;
  return [
    `${int(r0.sockets)} sockets of ${int(params.users)} users in ${params.rooms} presence channels (user u in channel u mod ${params.rooms}; ` +
      `the first ${int(params.doubleUsers)} users have two sockets in their channel, so "joining" must come only for a user's first socket and "leaving" only after the last). ` +
      '`/broadcasting/auth` is answered by a stub in the harness process (user id from a header in `auth.headers`). All sockets connect first; then:',
    '',
    `- **Join**: every socket subscribes, ${params.joinConcurrency} subscribes in flight per load-generator thread (${workers} threads). ` +
      'joins/s = `presence:subscribed` answers / (first subscribe → last answer); latency = subscribe sent → `presence:subscribed` received; server CPU ms per join over the same window (+ its redis-server).',
    `- **Churn**: ${int(r0.churners)} of the sockets (drawn with a fixed seed; ${Math.round(params.disconnectShare * 100)}% of them by closing the connection, the rest by \`unsubscribe\`) leave and rejoin ${params.gapMs} ms later, ` +
      `${int(params.churnRate)} joins/s offered for ${params.churnMs / 1000} s (a socket whose previous join is unanswered is skipped). Server CPU is per leave + rejoin. ` +
      'Then half of the churners stay away and the others rejoin.',
    `- **Checks**, ${params.settleMs / 1000} s after the joins and again after the churn: a fresh observer socket per channel subscribes, and the member list it receives is compared with the users that have at least one subscribed socket ` +
      '(ghosts: listed but gone; missing: there but not listed). "Stale client lists" counts joined sockets whose own member list (the `presence:subscribed` list, plus `joining`, minus `leaving`, as a Laravel Echo `here`/`joining`/`leaving` app keeps it) differs from the truth.',
  ];
}

/**
 * @param {Results} results
 * @returns {string}
 */
function s4Section(results) {
  /** @type {Cells[]} */
  const perf = [];
  /** @type {Cells[]} */
  const correct = [];
  /** @type {string[]} */
  const notes = [];
  /** @type {S4Result|null} the last successful run, for the scenario's parameters */
  let r0 = null;
  for (const t of liveTargets(results)) {
    for (const r of t.scenarios.s4 ?? []) {
      if (r.notApplicable) {
        perf.push([t.name, '–', `not applicable: ${r.notApplicable}`, ...Array(6).fill('')]);
        correct.push([t.name, '–', 'not applicable', '', '', '']);
        continue;
      }
      if (r.error) {
        perf.push([t.name, kindLabel(r.eio), `error: ${r.error.split('\n')[0]}`, ...Array(6).fill('')]);
        correct.push([t.name, kindLabel(r.eio), 'error', '', '', '']);
        continue;
      }
      r0 = r;
      perf.push(s4PerfRow(t, r));
      correct.push([
        t.name,
        kindLabel(r.eio),
        ...checkCells(r.afterJoin),
        ...(r.final ? checkCells(r.final) : [r.serverExited ? 'server exited' : '–', '–']),
      ]);
      notes.push(...s4Notes(t, r));
    }
  }
  const out = ['## S4 presence churn', ''];
  if (!r0) {
    if (perf.length) out.push(table(['target', 'clients', 'result', '', '', '', '', '', ''], perf), '');
    return out.join('\n');
  }
  out.push(
    ...s4Method(r0, results.meta.config.workers),
    '',
    table(
      [
        'target',
        'clients',
        'joins/s',
        'join p50 / p99 ms',
        'server CPU ms per join (+ Redis)',
        'churn joins/s of offered',
        'churn join p50 / p99 ms',
        'server CPU ms per leave + rejoin (+ Redis)',
        'errors',
      ],
      perf,
    ),
    '',
    table(
      [
        'target',
        'clients',
        'after the joins: ghosts / missing',
        'stale client lists',
        'after the churn: ghosts / missing',
        'stale client lists',
      ],
      correct,
    ),
    '',
  );
  if (perf.some((row) => row.some((cell) => String(cell).includes('†')))) out.push(NOISE_NOTE);
  if (notes.length) out.push(...notes, '');
  return out.join('\n');
}

/**
 * A failed connection attempt that a restart causes by design: the old server refusing while it
 * shuts down, or nothing listening on the port yet.
 * @param {string} reason key of S5Phase.attemptFailures
 */
const restartRefusal = (reason) => reason === 'ECONNREFUSED' || reason.startsWith('old server: ');

/**
 * Failures of an S5 phase, in one cell: clients not back, refused subscribes, failed connection
 * attempts other than {@link restartRefusal}s.
 * @param {import('./results.js').S5Phase} x
 * @returns {string}
 */
function s5Failures(x) {
  const parts = [];
  if (x.listenOverflows) parts.push(`${int(x.listenOverflows)} listen queue overflows (machine-wide)`);
  if (x.notBack) parts.push(`${int(x.notBack)} not back (e.g. ${x.stuck.slice(0, 2).join('; ')})`);
  for (const [k, v] of Object.entries(x.refused)) parts.push(`${k} refused × ${int(v)}`);
  for (const [k, v] of Object.entries(x.attemptFailures))
    if (!restartRefusal(k)) parts.push(`connect ${k} × ${int(v)}`);
  return parts.length ? parts.join(', ') : 'none';
}

/**
 * Subscribe latency cell: p50 / p99 over every channel, then p99 per kind.
 * @param {import('./results.js').S5Phase} x
 * @returns {string}
 */
function s5Latency(x) {
  const kinds = Object.entries(x.latency);
  const per = kinds.length > 1 ? ` (p99 ${kinds.map(([k, l]) => `${k} ${fix(l.p99)}`).join(', ')})` : '';
  return `${pair(x.p50, x.p99)}${per}`;
}

/**
 * Auth cell: peak requests/s over 1 s, the mean, and the connections the server opened.
 * @param {import('./results.js').S5Phase} x
 * @returns {string}
 */
const s5Auth = (x) =>
  x.auth.requests
    ? `${int(x.auth.perSecPeak)} (${int(x.auth.perSecMean)}); ${int(x.auth.requests)} req over ${int(x.auth.connections)} conns`
    : '–';

/** @param {import('./results.js').S5Phase} x */
const s5Noise = (x) => ((x.backgroundCpuPct ?? 0) > NOISY_PCT ? ' †' : '');

/**
 * @param {Results} results
 * @returns {string}
 */
function s5Section(results) {
  /** @type {Cells[]} */
  const storm = [];
  /** @type {Cells[]} */
  const join = [];
  /** @type {S5Result|null} a successful run, for the parameters */
  let r0 = null;
  for (const t of liveTargets(results)) {
    for (const r of t.scenarios.s5 ?? []) {
      if (r.notApplicable || r.error || !r.join) {
        const why = r.notApplicable ? `not applicable: ${r.notApplicable}` : `error: ${(r.error ?? '').split('\n')[0]}`;
        storm.push([t.name, r.eio ? kindLabel(r.eio) : '–', why, ...Array(8).fill('')]);
        continue;
      }
      r0 = r;
      const j = r.join;
      const x = r.restart;
      const channels = r.kinds.join(' + ');
      join.push([
        t.name,
        kindLabel(r.eio),
        channels,
        `${fix(j.seconds)}${s5Noise(j)}`,
        fix(j.cpuMsPerClient, 2),
        s5Auth(j),
        s5Latency(j),
        s5Failures(j),
      ]);
      if (!x) continue;
      storm.push([
        t.name,
        kindLabel(r.eio),
        channels,
        `${int(x.stopMs)}${x.exit === 'SIGKILL' ? ' (killed)' : ''} / ${int(x.startMs)}`,
        `${fix(x.seconds)} (${fix(x.readyToBackMs / 1000)})${s5Noise(x)}`,
        x.recovered === undefined ? '–' : int(x.recovered),
        fix(x.cpuMsPerReconnect, 2),
        s5Auth(x),
        s5Latency(x),
        s5Failures(x),
        `${int(
          Object.entries(x.attemptFailures)
            .filter(([k]) => restartRefusal(k))
            .reduce((a, [, v]) => a + v, 0),
        )} / ${int(x.attempts)}`,
      ]);
    }
  }
  if (!r0)
    return storm.length
      ? [
          '## S5 reconnect storm',
          '',
          table(
            ['target', 'clients', 'result'],
            storm.map((c) => c.slice(0, 3)),
          ),
          '',
        ].join('\n')
      : '';
  const p = r0.params;
  return [
    '## S5 reconnect storm',
    '',
    `${int(r0.clients)} clients on one node, each on a public channel and a presence channel of ${p.roomSize} users each and on its own private channel ` +
      `(\`bare\` has no channel auth: public channel only${p.publicOnly ? '; this run: every target on its public channel only' : ''}). \`/broadcasting/auth\` is a stub in the harness answering like Laravel (\`true\` / \`channel_data\`) after ${p.authDelayMinMs}–${p.authDelayMaxMs} ms, ` +
      `${p.authKeepAlive ? 'keeping connections alive' : 'closing each connection'}. Clients reconnect as socket.io-client does (${p.reconnectDelayMs / 1000} s doubling to ${p.reconnectDelayMaxMs / 1000} s, ±50 % jitter) and send every \`subscribe\` again, as Laravel Echo does` +
      `${p.recovery ? "; Engine.IO 4 clients first ask for their session back (pid and offset), as socket.io-client ≥ 4.6 does whenever the server's CONNECT carried a pid (echo-relay's does; a restored session is in its channels again, and a subscribe to one asks Laravel nothing)" : ''}. ` +
      `A public or private subscribe counts as done when a probe broadcast reaches it (probes go to each channel with a client waiting, to a private one once the stub answered its auth or after 1 s without, at once, ${p.probeMs} ms later, then at gaps doubling up to 500 ms: late by up to ${p.probeMs} ms when the server joins promptly, up to 500 ms when it is slow); a presence subscribe when \`presence:subscribed\` arrives.`,
    '',
    '- **Cold join**: a freshly started server; every client connects (as in S1) and subscribes. Server CPU over the join / clients.',
    '- **Restart**: SIGTERM, wait for the process to exit (SIGKILL after 15 s: "killed"), start it again on the same port (ready as the target defines it). "All back" = every client reconnected and each of its channels subscribed (or refused). ' +
      "Server CPU per reconnect = the new process's CPU until all are back, minus what the cold-started server used to get ready without clients, / clients. Auth req/s: highest count in a 1 s window (mean from first to last request).",
    '',
    table(
      [
        'target',
        'clients',
        'channels each',
        'join s',
        'server CPU ms per client (connect + subscribes)',
        'auth req/s peak (mean); requests over TCP conns',
        'subscribe p50 / p99 ms',
        'failures',
      ],
      join,
    ),
    '',
    table(
      [
        'target',
        'clients',
        'channels each',
        'SIGTERM → exit / start → ready ms',
        'all back s after SIGTERM (after ready)',
        'sessions restored',
        'server CPU ms per reconnect',
        'auth req/s peak (mean); requests over TCP conns',
        'subscribe p50 / p99 ms',
        'failures',
        'connects refused by the stopping server or a closed port / attempts',
      ],
      storm,
    ),
    '',
    [...join, ...storm].some((c) => c.some((cell) => String(cell).includes('†'))) ? NOISE_NOTE : '',
  ].join('\n');
}

/**
 * The "Machine" table.
 * @param {Results['meta']['machine']} mc
 * @returns {string}
 */
function machineTable(mc) {
  return table(
    ['CPU', 'cores', 'memory', 'kernel', 'Node.js', 'Redis', 'open files (soft/hard)', 'bench commit'],
    [
      [
        mc.cpuModel,
        mc.cores,
        `${mc.memoryGiB} GiB`,
        mc.kernel,
        mc.node,
        mc.redis,
        `${mc.nofile.soft}/${mc.nofile.hard}`,
        mc.benchCommit ?? '–',
      ],
    ],
  );
}

/**
 * The "Method" list: how publishing, clients and each figure work.
 * @param {Results['meta']} m
 * @returns {string[]}
 */
function methodList(m) {
  const mc = m.machine;
  return [
    '- Publisher: ioredis `PUBLISH <channel>` of Laravel-shaped payloads `{"event":"App\\\\Events\\\\Bench","data":{"seq","step","ts","pad"},"socket":null}`, paced in 5 ms ticks; `ts` is epoch µs from `performance.timeOrigin + performance.now()`.',
    `- Clients: raw \`ws\` WebSockets speaking Engine.IO/socket.io framing (\`/socket.io/?EIO=<3|4>&transport=websocket\`), spread over ${m.config.workers} worker thread(s); a delivery is found with one \`Buffer.indexOf\` and a digit scan, no JSON parsing. EIO4 clients answer server pings, EIO3 clients ping on their own. Pusher clients (S2 and S3 on targets that serve the Pusher protocol) speak protocol 7 on the same kind of socket (\`/app/<key>?protocol=7\`, \`pusher:subscribe\`, \`pusher:pong\`), and their stamp is read from \`data\` sent as a JSON string.`,
    '- Latency = receive time − publish stamp, per delivery, in a 0.1 ms-resolution histogram. Loss = expected deliveries (published × subscribers) − deliveries received before the drain ended (1 s without progress after publishing).',
    "- Server CPU = utime + stime from `/proc/<pid>/stat` over the step window (publish start to drain end); RSS = `VmRSS` from `/proc/<pid>/status`; both summed over the server's process tree.",
    '- delivered/s = deliveries / step window (publish start to last delivery), so an overloaded server shows its real throughput.',
    '- CPU percentages are of one core (the box has ' +
      mc.cores +
      '). "other CPU %" is machine-wide busy time (/proc/stat) minus the server, its redis-server and the load generator: other processes plus kernel softirq work not charged to any process. Before each step the harness waits (bounded) until other processes use < ' +
      m.config.quiet.maxPct +
      '% of a core.',
  ];
}

/**
 * Render BENCHMARKS.md.
 * @param {Results} results
 * @param {string} jsonPath repo-relative path of the raw results file
 * @param {string[]} [otherRuns] repo-relative paths of other stored runs, to show run-to-run spread
 * @returns {string}
 */
export function renderMarkdown(results, jsonPath, otherRuns = []) {
  const m = results.meta;
  const targets = results.targets.map((t) =>
    row([
      t.name,
      t.version ?? '–',
      [...t.eio.map((e) => `EIO${e}`), ...(t.pusher ? ['Pusher (S2, S3)'] : [])].join(', '),
      t.skipped ? `skipped: ${t.skipped}` : t.errors?.length ? `${t.errors.length} scenario error(s)` : 'measured',
    ]),
  );
  return [
    '# Benchmarks',
    '',
    `Generated by \`${m.command}\` (${m.mode} mode) on ${m.date}, ${Math.round(m.durationSec / 60)} min. Raw figures: [\`${jsonPath}\`](${jsonPath}).`,
    'All targets ran in the same invocation on the same machine, one at a time and scenario by scenario, each with its own redis-server, so ratios between them are comparable. ' +
      'The load generator runs on the same machine, so absolute numbers understate what a dedicated server box would do.',
    ...(otherRuns.length
      ? [
          '',
          `Other stored runs (render one with \`node bench/run.mjs --report-only=<file>\` to compare run-to-run spread): ${otherRuns.map((f) => `[\`${f}\`](${f})`).join(', ')}.`,
        ]
      : []),
    '',
    '## Machine',
    '',
    machineTable(m.machine),
    '',
    '## Targets',
    '',
    row(['target', 'version', 'driven with', 'status']),
    row(['---', '---', '---', '---']),
    ...targets,
    '',
    '## Summary',
    '',
    summary(results),
    '',
    '"× bare" is the ratio to the bare socket.io + ioredis floor driven with the same client protocol. EIO4 = socket.io v3/v4 clients, EIO3 = socket.io v2 clients. ' +
      'S2 CPU efficiency is totalled over the publish rates every target completed, since efficiency rises with load and saturated targets skip the higher rates.',
    '',
    s1Section(results),
    s2Section(results, 's2', 'S2 fan-out'),
    s2Section(results, 's2small', 'S2 fan-out, small room'),
    s3Section(results),
    s4Section(results),
    s5Section(results),
    '## Method',
    '',
    ...methodList(m),
    '',
    performanceLog(),
  ].join('\n');
}

/**
 * The hand-written history of performance changes (bench/performance-work.md), appended to every
 * generated report so regenerating BENCHMARKS.md keeps it.
 * @returns {string}
 */
function performanceLog() {
  try {
    return readFileSync(new URL('../performance-work.md', import.meta.url), 'utf8').trimEnd() + '\n';
  } catch {
    return '';
  }
}
