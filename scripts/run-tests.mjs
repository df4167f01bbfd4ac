#!/usr/bin/env node
// Runs every compiled *.test.js under .test-build with Node's test runner, one process per file.
// Usage: node scripts/run-tests.mjs [unit|e2e|all] [name-filter]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const [kind = 'all', filter = ''] = process.argv.slice(2);
const roots = { unit: ['.test-build/src'], e2e: ['.test-build/test'], all: ['.test-build/src', '.test-build/test'] }[
  kind
];
if (!roots) {
  console.error(`unknown test kind "${kind}" (unit, e2e or all)`);
  process.exit(2);
}

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = roots
  .flatMap(find)
  .filter((f) => f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error('no test files found: did the test build run?');
  process.exit(1);
}
console.log(`running ${files.length} test file(s): ${files.map((f) => relative('.test-build', f)).join(', ')}`);
const result = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
