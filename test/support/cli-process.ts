import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the whole process, start to exit. */
  ms: number;
}

/**
 * Runs one `echo-relay` command to its end, as a user would: `bin/echo-relay.js` of this clone (or
 * `bin`, e.g. an installed copy), in `cwd`, with only PATH from this environment so no test setting
 * leaks into the config it reads.
 */
export function runCli(
  args: string[],
  options: { cwd: string; bin?: string; env?: Record<string, string> },
): Promise<CliRun> {
  const bin = options.bin ?? `${ROOT}bin/echo-relay.js`;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: options.cwd, env: { PATH: process.env.PATH, ...options.env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** The repository root, for specs that copy or pack its files. */
export const REPO_ROOT = ROOT;
