import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server as HttpsServer, ServerOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from '@nestjs/common';
import { describeKey } from '../config/config-keys.js';
import { ConfigError } from '../config/load-config.js';
import type { ServerConfig } from './server.config.js';

/** How often certificate files are checked for renewal. */
const WATCH_INTERVAL_MS = 2_000;

type TlsFile = 'sslCertPath' | 'sslKeyPath' | 'sslCertChainPath';

/**
 * Reads the certificate, key and chain named in the old file's `ssl*` settings, each file through
 * `read` (given the setting's name).
 */
export function readTlsOptions(
  config: ServerConfig,
  read: (name: TlsFile) => string = (name) => readFileSync(config[name], 'utf8'),
): ServerOptions {
  const cert = read('sslCertPath');
  const chain = config.sslCertChainPath ? read('sslCertChainPath') : '';
  return {
    cert: chain ? `${cert.trimEnd()}\n${chain}` : cert,
    key: read('sslKeyPath'),
    passphrase: config.sslPassphrase || undefined,
  };
}

/**
 * `readTlsOptions` at startup: a missing file, or a certificate and key TLS cannot use (not PEM, a
 * key of another certificate, a wrong passphrase), is a config error naming the setting.
 */
export function startupTlsOptions(config: ServerConfig): ServerOptions {
  const missing = (['sslCertPath', 'sslKeyPath'] as const).filter((name) => !config[name]);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((name) => `${describeKey(`server.${name}`)}: required when protocol is https`).join('\n'),
    );
  }
  const options = readTlsOptions(config, (name) => {
    try {
      return readFileSync(config[name], 'utf8');
    } catch (err) {
      throw new ConfigError(`${describeKey(`server.${name}`)}: cannot read ${config[name]}: ${(err as Error).message}`);
    }
  });
  try {
    createSecureContext(options);
  } catch (err) {
    throw new ConfigError(
      `${describeKey('server.sslCertPath')} / ${describeKey('server.sslKeyPath')}: TLS cannot use them: ${(err as Error).message}`,
    );
  }
  return options;
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
