// @ts-check
/**
 * Jest runs the specs as `tsc` compiled them (`npm run build:test` writes `.test-build/`), in its
 * ESM mode: the project and NestJS 12 are ESM-only. Compiling once with the real compiler keeps
 * decorator metadata (Nest's injection) exactly as in `dist/`; the pass-through transform below
 * only hands Jest each file's source map, so failures point at `.ts` lines.
 *
 * Two projects: `unit` (src/**, no network beyond what a spec starts itself) and `e2e` (test/**,
 * real Redis, relays, clients). Every spec takes free ports, so files run in parallel workers.
 *
 * @type {import('jest').Config}
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.js$': '<rootDir>/test/jest/source-map-transform.cjs' },
  transformIgnorePatterns: ['/node_modules/'],
  moduleFileExtensions: ['js', 'json'],
};

const projects = [
  {
    ...shared,
    displayName: 'unit',
    roots: ['<rootDir>/.test-build/src'],
    testMatch: ['**/*.test.js'],
    setupFilesAfterEnv: ['<rootDir>/test/jest/unit-timeout.mjs'],
  },
  {
    ...shared,
    displayName: 'e2e',
    roots: ['<rootDir>/.test-build/test'],
    testMatch: ['**/*.test.js'],
    setupFilesAfterEnv: ['<rootDir>/test/jest/e2e-timeout.mjs'],
  },
];

/**
 * Specs whose assertions measure the relay's memory: beside other specs in parallel workers, a
 * starved relay's garbage collector lets RSS grow by tens of MB, which the bound cannot tell from
 * what it checks. `npm test` runs them in a second pass of their own (`JEST_PROJECT=alone`).
 */
const ALONE = ['/slow-consumers\\.e2e\\.test\\.js$'];
projects.push({ ...projects[1], displayName: 'alone', testMatch: undefined, testRegex: ALONE });

// `npm run test:unit` / `test:e2e` pick one project through JEST_PROJECT rather than
// `--selectProjects`, whose list would swallow the path pattern npm appends after it. Without it
// (`npm test`'s first pass), unit and e2e run together, less the specs that run alone.
const only = process.env.JEST_PROJECT;
const together = [projects[0], { ...projects[1], testPathIgnorePatterns: ['/node_modules/', ...ALONE] }];

export default {
  projects: only ? projects.filter((project) => project.displayName === only) : together,
  // Two cores here: one worker per core keeps the e2e relays from starving each other.
  maxWorkers: 2,
  // A worker that ran a few hundred spec files holds about 1 GB of heap (V8 frees the spec files'
  // module graphs lazily) and, on this loaded 2-core machine, takes 0.4-0.6 s to
  // tear it down after its 'exit' event, with nothing left open: past Jest's default 500 ms it was
  // force-exited and reported as a leak. A worker that is held open is still force-exited and
  // reported, 3 s later.
  workerGracefulExitTimeout: 3000,
  // It was still passed now and then (Node 24 and 26). test/jest/exit-probe.cjs traced it: the
  // killed worker held a TCP socket of a spec proxy that had reset it after its peer ended it, which
  // on Node 26 leaves the handle registered and hangs the process after 'exit'. The proxies in
  // test/support destroy such sockets instead; the probe finds workers gone 0.2-0.3 s after 'exit'.
  reporters: ['default', '<rootDir>/test/jest/summary-reporter.cjs'],
};
