import { jest } from '@jest/globals';

// Unit specs start at most a local HTTP server or a redis-server of their own.
jest.setTimeout(30_000);
