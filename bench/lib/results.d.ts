// Shape of a results file (bench/results/<date>-<mode>.json) as run.mjs writes it and report.mjs reads it.
// Fields a scenario only sets on some paths (errors, skipped steps, a server that exited) are optional.

import type { BenchConfig } from './config.mjs';
import type { machineInfo } from './machine.mjs';

/** 3 or 4: socket.io clients of that Engine.IO version; 'pusher': Pusher protocol 7 clients. */
export type ClientKind = 3 | 4 | 'pusher';

/** Median and spread of one figure over the repetitions of a step. */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  n: number;
}

/** A failed scenario run: only the protocol and the error are kept. */
export interface ScenarioError {
  eio: ClientKind;
  error: string;
}

/** Fields every scenario result may carry besides its own. */
interface ScenarioBase {
  /** 3 or 4: socket.io clients of that Engine.IO version; 'pusher': Pusher protocol 7 clients. */
  eio: ClientKind;
  error?: string;
  notApplicable?: string;
}

export interface S1Result extends ScenarioBase {
  params: { connections: number; channels: number; reps: number; settleMs: number; idleMs: number };
  reps: { connected: number }[];
  summary: Record<'connectRate' | 'connectCpuMsPerConn' | 'rssPerConnKiB' | 'idleCpuPct' | 'readyMs', Spread>;
}

export interface S1MaxLevel {
  level: number;
  ok: boolean;
  failed: number;
  ready: number;
  rssPerConnKiB: number;
}

export interface S1MaxResult extends ScenarioBase {
  levels: S1MaxLevel[];
  maxHeld: number | null;
  hold: { holdMs: number; stillOpen: number; idleCpuPct: number } | null;
}

/** One repetition of a publish step (S2, S3). */
export interface StepRep {
  delivered: number;
  serverCpuSec: number;
  targetDeliveriesPerSec: number;
}

export type StepSummary = Record<
  | 'deliveriesPerSec'
  | 'p50'
  | 'p99'
  | 'p999'
  | 'lossPct'
  | 'serverCpuPct'
  | 'perCpuSec'
  | 'loadgenCpuPct'
  | 'redisCpuPct'
  | 'backgroundCpuPct',
  Spread
>;

export interface FanOutStep {
  rate: number;
  targetDeliveriesPerSec?: number;
  skipped?: string;
  reps?: StepRep[];
  summary: StepSummary;
}

export interface FanOutResult extends ScenarioBase {
  params: { subscribers: number; reps: number; stepMs: number; warmupMs: number };
  steps: FanOutStep[];
  sustained: { rate: number; deliveriesPerSec: number; p99: number } | null;
  perCpuSecAll: number | null;
}

export interface S3Result extends ScenarioBase {
  params: { clients: number; rate: number; sharedRate: number; reps: number; stepMs: number };
  reps: StepRep[];
  summary: StepSummary;
}

/** Counters of one S4 phase (see presence-client.mjs) plus what the scenario derives from them. */
export interface S4Phase {
  statuses?: Record<string, number>;
  joins: number;
  p50: number | null;
  p99: number | null;
  backgroundCpuPct?: number;
}

/** Result of checking the member lists against who is really there. */
export interface MemberCheck {
  ghosts: number;
  missing: number;
  ghostSample: string[];
  missingSample: string[];
  observerErrors: unknown[];
  views: {
    checked: number;
    stale: number;
    ghostEntries: number;
    missingEntries: number;
    staleByPhase: Record<string, number>;
  };
}

export interface S4Result extends ScenarioBase {
  params: {
    rooms: number;
    users: number;
    doubleUsers: number;
    disconnectShare: number;
    churnRate: number;
    churnMs: number;
    gapMs: number;
    settleMs: number;
    joinConcurrency: number;
  };
  sockets: number;
  churners: number;
  errors: number;
  phaseA?: S4Phase & { joinsPerSec: number; cpuMsPerJoin: number; redisCpuMsPerJoin: number; timeouts?: number };
  churn?: S4Phase & {
    joinsPerSec: number;
    offeredRate: number;
    cpuMsPerCycle: number;
    redisCpuMsPerCycle: number;
    tail?: { statuses?: Record<string, number> };
    unsettled?: number;
  };
  afterJoin?: MemberCheck;
  final?: MemberCheck;
  serverExited?: { error: string } | null;
}

/** One S5 phase (the cold join, or the storm after the restart); see storm.mjs. */
export interface S5Phase {
  back: number;
  notBack: number;
  stuck: string[];
  seconds: number;
  p50: number | null;
  p99: number | null;
  latency: Record<string, { confirmed: number; p50: number | null; p99: number | null }>;
  attempts: number;
  /** Connects that restored the session of the connection before (absent in files before 2026-12-02). */
  recovered?: number;
  attemptFailures: Record<string, number>;
  refused: Record<string, number>;
  serverCpuSec: number;
  redisCpuSec: number;
  auth: {
    requests: number;
    denied: number;
    perSecMean: number | null;
    perSecPeak: number;
    peakInFlight: number;
    connections: number;
  };
  probes: number;
  listenOverflows: number | null;
  backgroundCpuPct: number;
}

export interface S5Result extends ScenarioBase {
  params: {
    clients: number;
    publicOnly: boolean;
    /** Engine.IO 4 clients ask for their session back (absent in files before 2026-12-02). */
    recovery?: boolean;
    roomSize: number;
    authDelayMinMs: number;
    authDelayMaxMs: number;
    authKeepAlive: boolean;
    reconnectDelayMs: number;
    reconnectDelayMaxMs: number;
    probeMs: number;
    settleMs: number;
    timeoutMs: number;
  };
  clients: number;
  kinds: string[];
  coldStartMs: number;
  bootCpuSec: number;
  bootRssMiB: number;
  join: (S5Phase & { cpuMsPerClient: number | null }) | null;
  restart:
    | (S5Phase & {
        stopMs: number;
        exit: string;
        startMs: number;
        readyToBackMs: number;
        cpuAtReadySec: number;
        cpuMsPerReconnect: number | null;
        serverAlive: boolean;
      })
    | null;
}

export interface Scenarios {
  s1?: S1Result[];
  s1max?: S1MaxResult[];
  s2?: FanOutResult[];
  s2small?: FanOutResult[];
  s3?: S3Result[];
  s4?: S4Result[];
  s5?: S5Result[];
}

export interface TargetResult {
  name: string;
  description: string;
  eio: (3 | 4)[];
  /** Also driven with Pusher protocol clients in S2 and S3. */
  pusher?: boolean;
  version?: string;
  skipped?: string;
  scenarios: Scenarios;
  errors: { scenario: string; eio: ClientKind; error: string }[];
}

export interface Results {
  meta: {
    date: string;
    mode: string;
    command: string;
    machine: ReturnType<typeof machineInfo>;
    config: BenchConfig;
    durationSec: number;
  };
  targets: TargetResult[];
}
