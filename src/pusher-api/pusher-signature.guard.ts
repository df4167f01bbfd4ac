import {
  BadRequestException,
  HttpException,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiConfig } from '../http-api/api.config.js';
import { hasUnreadBody } from '../http-api/api-body.js';
import { isPublishRequest, type ApiRequest } from '../http-api/api-request.js';
import { DroppedMessage } from '../http-api/dropped-message.js';
import { NOT_JSON_BODY } from '../http-api/publish-request.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { verifySignature } from './pusher-signature.js';

/**
 * Pusher's HTTP API: the request must be signed with the secret of the app named in its path (see
 * `verifySignature`). A refusal is counted by reason, logged at most once per reason and 10 s,
 * and answered 401 (403 for another app's key) with `{"error": "..."}` by `ApiErrorFilter`.
 * A body not sent as JSON is refused first, with the old API's 400: the body parser did not read
 * it, so it could only be hashed as empty and refused as a `body_md5` mismatch, which it is not.
 */
@Injectable()
export class PusherSignatureGuard implements CanActivate {
  private readonly log = new ThrottledLog(new Logger('PusherApi'));

  constructor(
    private readonly config: ApiConfig,
    private readonly metrics: RelayMetrics,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<ApiRequest>();
    // Like a body the parser refused (invalid JSON, too large), answered before the signature.
    if (hasUnreadBody(req)) {
      throw isPublishRequest(req)
        ? new DroppedMessage('not_an_object', '', NOT_JSON_BODY)
        : new BadRequestException(NOT_JSON_BODY);
    }
    // `originalUrl` is the URL as sent and signed; Express may rewrite `url` on its way.
    const url = (req as ApiRequest & { originalUrl?: string }).originalUrl ?? req.url ?? '';
    const at = url.indexOf('?');
    const verdict = verifySignature(
      {
        method: req.method,
        path: at < 0 ? url : url.slice(0, at),
        query: at < 0 ? '' : url.slice(at + 1),
        body: req.rawBody,
        appId: req.params.appId ?? '',
      },
      this.config.clients,
      Math.floor(Date.now() / 1000),
    );
    if (verdict.ok) return true;
    this.metrics.pusherApiRefused.inc({ reason: verdict.reason });
    this.log.warn(verdict.reason, `Refused a Pusher API request (${req.method} ${req.path}): ${verdict.message}`);
    throw new HttpException(verdict.message, verdict.status);
  }
}
