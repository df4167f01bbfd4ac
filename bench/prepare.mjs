// @ts-check
// Installs the harness's own dependencies (bench/package.json) on first use, so `npm run bench`
// works from a fresh clone. A no-op once bench/node_modules holds them.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const needed = ['socket.io', 'socket.io-client', 'ioredis', 'laravel-echo-server', 'ws'];
const pinned = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')).dependencies;

/**
 * Installed at the pinned version: an older install may hold laravel-echo-server's socket.io-client 2 there.
 * @param {string} name
 */
function installed(name) {
  const manifest = new URL(`node_modules/${name}/package.json`, import.meta.url);
  return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === pinned[name];
}

if (needed.every(installed)) process.exit(0);
console.log('bench: installing the harness dependencies (bench/package.json) once');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const { status } = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: benchDir, stdio: 'inherit' });
process.exit(status ?? 1);
