import { ForbiddenException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiConfig } from './api.config.js';
import { ApiKeys, keyFromRequest } from './api-keys.js';
import type { ApiRequest } from './api-request.js';

/** `/apps/:appId/...` needs a key of that app: `?auth_key=` or `Authorization: Bearer`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: ApiKeys;

  constructor(config: ApiConfig) {
    this.keys = new ApiKeys(config.clients);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<ApiRequest>();
    const key = keyFromRequest(req.headers.authorization, req.query.auth_key);
    // The old server's answer, word for word: callers match on it.
    if (!this.keys.allows(req.params.appId ?? '', key)) throw new ForbiddenException('Unauthorized');
    return true;
  }
}
