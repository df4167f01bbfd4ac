// @ts-check
// Facts about the machine and software the numbers were measured with.

import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { REDIS_SERVER } from './redis.mjs';
import { nofileLimit } from './proc.mjs';

/**
 * stdout of a command, trimmed, or null when it fails.
 * @param {string} cmd
 * @param {string[]} args
 * @returns {string|null}
 */
const run = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
};

/**
 * Describe the machine: CPU model, cores, memory, kernel, Node, Redis, fd limit.
 * @returns {Record<string, any>}
 */
export function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    /* non-Linux */
  }
  const redis = run(REDIS_SERVER, ['--version']);
  return {
    cpuModel,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    redis: redis ? (/v=(\S+)/.exec(redis)?.[1] ?? redis) : 'unknown',
    nofile: nofileLimit(),
    benchCommit: run('git', ['-C', new URL('..', import.meta.url).pathname, 'rev-parse', '--short', 'HEAD']),
  };
}
