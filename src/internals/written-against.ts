/**
 * The library versions the code in `src/internals` was written against, in one table: every file
 * here reads members those libraries do not promise to keep, and names its versions in its header.
 * Each file's contract spec (`*.contract.test.ts`) checks the members themselves, and calls
 * `versionMismatch` for the libraries it depends on.
 *
 * Upgrading one of these: run the unit specs; when a contract spec fails, re-read the library's
 * source for the member it names and fix the code here; then record the new version below and in
 * the headers of the files that name it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const WRITTEN_AGAINST = {
  ws: '8.21.3',
  'engine.io': '6.6.12',
  'socket.io': '4.8.3',
  'socket.io-parser': '4.2.7',
  '@socket.io/redis-adapter': '8.3.0',
  'socket.io-adapter': '2.5.8',
  ioredis: '6.0.0',
  '@nestjs/microservices': '12.1.1',
  '@nestjs/platform-socket.io': '12.1.1',
  'class-validator': '0.15.1',
  'prom-client': '15.1.3',
} as const;

export type InternalsLibrary = keyof typeof WRITTEN_AGAINST;

const require = createRequire(import.meta.url);

/**
 * The version of `name` that Node resolves from here. Read from the package directory rather than
 * through `require.resolve('<name>/package.json')`, which a package's `exports` may refuse.
 */
export function installedVersion(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = join(dir, name, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  throw new Error(`${name} is not installed`);
}

/**
 * Undefined when the installed `name` has the major and minor version the code was written
 * against; otherwise a message saying what to do. A patch release passes: the contract specs check
 * the members themselves, and the lockfile may move patches (`~`, `^` ranges) without anyone
 * reading the library's source, while a minor or major release is where internals move.
 */
export function versionMismatch(name: InternalsLibrary, installed = installedVersion(name)): string | undefined {
  const expected = WRITTEN_AGAINST[name];
  if (majorMinor(installed) === majorMinor(expected)) return undefined;
  return `${name}: written against ${expected}, found ${installed}; re-check the contract (src/internals) and update WRITTEN_AGAINST`;
}

function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
