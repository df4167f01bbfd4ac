import { jest } from '@jest/globals';

// End-to-end hooks start Redis topologies (a three-master cluster, Sentinel), relays and browsers.
jest.setTimeout(120_000);
