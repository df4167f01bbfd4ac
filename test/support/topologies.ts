import type { RedisKind } from './redis-topologies.js';

/** How one logical server is laid out: how many echo-relay nodes, on which Redis. */
export interface Topology {
  name: string;
  redis: RedisKind;
  nodes: number;
}

/**
 * The setups every shared behavioural spec runs on (`test/e2e/topologies.e2e.test.ts`): N nodes on
 * any Redis must behave as one server. Add a row to run the whole suite on another layout.
 */
export const TOPOLOGIES: Topology[] = [
  { name: 'one node', redis: 'single', nodes: 1 },
  { name: 'three nodes sharing one Redis', redis: 'single', nodes: 3 },
  { name: 'three nodes on a 3-master Redis Cluster', redis: 'cluster', nodes: 3 },
  { name: 'two nodes on Redis Sentinel', redis: 'sentinel', nodes: 2 },
];
