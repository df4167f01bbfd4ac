import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server as HttpsServer, ServerOptions } from 'node:https';
import type { Logger } from '@nestjs/common';
import type { ServerConfig } from './server.config.js';

/** How often certificate files are checked for renewal. */
const WATCH_INTERVAL_MS = 2_000;

/** Reads the certificate, key and chain named in the old file's `ssl*` settings. */
export function readTlsOptions(config: ServerConfig): ServerOptions {
  const cert = readFileSync(config.sslCertPath, 'utf8');
  const chain = config.sslCertChainPath ? readFileSync(config.sslCertChainPath, 'utf8') : '';
  return {
    cert: chain ? `${cert.trimEnd()}\n${chain}` : cert,
    key: readFileSync(config.sslKeyPath, 'utf8'),
    passphrase: config.sslPassphrase || undefined,
  };
}

/**
 * Swaps in renewed certificates without a restart (the old server needed one): the files are
 * polled, so renewals that replace a symlink (certbot) are seen too. Returns a stop function.
 */
export function reloadCertificatesOnChange(server: HttpsServer, config: ServerConfig, log: Logger): () => void {
  const files = [config.sslCertPath, config.sslKeyPath, config.sslCertChainPath].filter(Boolean);
  const reload = (): void => {
    try {
      server.setSecureContext(readTlsOptions(config));
      log.log('TLS certificate reloaded');
    } catch (err) {
      // A half-written renewal: keep serving the old certificate and try on the next change.
      log.warn(`TLS certificate not reloaded: ${(err as Error).message}`);
    }
  };
  const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }): void => {
    if (current.mtimeMs !== previous.mtimeMs) reload();
  };
  for (const file of files) watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, onChange);
  return () => files.forEach((file) => unwatchFile(file, onChange));
}
