import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { AuthConfig } from '../auth.config.js';
import { ConfigError } from '../../config/load-config.js';
import { ChannelAuthorizer, type AuthRequest, type AuthResult } from '../channel-authorizer.js';
import { ConcurrencyLimit } from '../concurrency-limit.js';
import { authForm, authUrl, chooseAuthHost, forwardedHeaders } from './auth-target.js';
import { interpretAuthResponse } from './auth-response.js';
import { AuthTimeout, postForm } from './form-post.js';

/**
 * The default driver: asks the Laravel app's `/broadcasting/auth` exactly as laravel-echo-server
 * did, but with a deadline, with TLS certificates verified (plus an optional CA file), and with
 * the host chosen from configuration only. At most `slots.max` requests (`limits.authConcurrency`)
 * are open at once, node-wide, over keep-alive agents of that many sockets; the others wait for a
 * slot in order, and their deadline starts when they get one. A call whose subscribe is taken
 * back (`request.signal`) leaves the queue, or is cut off in flight, and frees its slot at once:
 * sockets that come and go leave nothing waiting behind them.
 */
export class LaravelAuthorizer extends ChannelAuthorizer implements OnApplicationShutdown {
  private readonly agents: { http: Agent; https: HttpsAgent };

  constructor(
    private readonly config: AuthConfig,
    private readonly slots = new ConcurrencyLimit(256),
  ) {
    super();
    if (config.host.length === 0) throw new ConfigError('auth.host (file "authHost"): needs at least one URL');
    const ca = config.caFile ? [...rootCertificates, readCa(config.caFile)] : undefined;
    // Keep-alive: an app behind TLS would otherwise pay a handshake for every subscribe.
    const maxSockets = slots.max;
    this.agents = {
      http: new Agent({ keepAlive: true, maxSockets }),
      https: new HttpsAgent({ keepAlive: true, maxSockets, ca }),
    };
  }

  async authorize(request: AuthRequest): Promise<AuthResult> {
    const url = authUrl(chooseAuthHost(this.config.host, request.handshakeHeaders), this.config.endpoint);
    try {
      const answer = await this.slots.run(
        () =>
          postForm({
            url,
            headers: forwardedHeaders(request, this.config.blockedHeaders),
            body: authForm(request),
            timeoutMs: this.config.timeoutMs,
            agents: this.agents,
            signal: request.signal,
          }),
        request.signal,
      );
      return interpretAuthResponse(answer.status, answer.body);
    } catch (err) {
      const reason = `${url}: ${(err as Error).message}`;
      if (request.signal?.aborted) return { outcome: 'abandoned', status: 0, reason };
      return { outcome: err instanceof AuthTimeout ? 'timeout' : 'error', status: 0, reason };
    }
  }

  onApplicationShutdown(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

export function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`auth.caFile (file "authCaFile"): cannot read ${path}: ${(err as Error).message}`);
  }
}
