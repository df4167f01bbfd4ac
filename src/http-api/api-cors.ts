import { originAllowList } from '../common/origins.js';
import type { ApiCorsConfig } from './api.config.js';
import { isApiPath, type ApiRequest, type ApiResponse } from './api-request.js';

/**
 * CORS for `/apps/...` from the old `apiOriginAllow` block, with a list of origins instead of one:
 * an allowed `Origin` is echoed back (or `*` when configured), a preflight from any other origin
 * gets 403. Sockets are not concerned: socket.io answers its own CORS from `allowedOrigins`.
 */
export function apiCors(config: ApiCorsConfig): (req: ApiRequest, res: ApiResponse, next: () => void) => void {
  const origins = originAllowList(config.origins);
  const anyOrigin = origins.any;
  return (req, res, next) => {
    if (!config.enabled || !isApiPath(req.path)) return next();
    const origin = req.headers.origin;
    const allowed = origin !== undefined && origins.allows(origin);
    res.setHeader('Vary', 'Origin');
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      if (config.methods.length > 0) res.setHeader('Access-Control-Allow-Methods', config.methods.join(', '));
      if (config.headers.length > 0) res.setHeader('Access-Control-Allow-Headers', config.headers.join(', '));
    }
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) return next();
    if (!allowed) return void res.status(403).json({ error: 'Origin not allowed' });
    res.setHeader('Access-Control-Max-Age', '600');
    res.statusCode = 204;
    res.end();
  };
}
