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

// `npm run test:unit` / `test:e2e` pick one project through JEST_PROJECT rather than
// `--selectProjects`, whose list would swallow the path pattern npm appends after it.
const only = process.env.JEST_PROJECT;

export default {
  projects: only ? projects.filter((project) => project.displayName === only) : projects,
  // Two cores here: one worker per core keeps the e2e relays from starving each other.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/jest/summary-reporter.cjs'],
};
