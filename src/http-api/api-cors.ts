import type { ApiCorsConfig } from './api.config.js';
import { isApiPath, type ApiRequest, type ApiResponse } from './api-request.js';

/**
 * CORS for `/apps/...` from the old `apiOriginAllow` block, with a list of origins instead of one:
 * an allowed `Origin` is echoed back (or `*` when configured), a preflight from any other origin
 * gets 403. Sockets are not concerned: socket.io answers its own CORS from `allowedOrigins`.
 */
export function apiCors(config: ApiCorsConfig): (req: ApiRequest, res: ApiResponse, next: () => void) => void {
  const origins = new Set(config.origins.map(normalizeOrigin));
  const anyOrigin = origins.has('*');
  return (req, res, next) => {
    if (!config.enabled || !isApiPath(req.path)) return next();
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (anyOrigin || origins.has(normalizeOrigin(origin)));
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

/**
 * `scheme://host[:port]` as browsers send it: lower case, default port left out, no path. Anything
 * that is no URL (`*`, `null`) is compared as it is.
 */
export function normalizeOrigin(origin: string): string {
  try {
    const { origin: normalized } = new URL(origin.trim());
    return normalized === 'null' ? origin.trim() : normalized;
  } catch {
    return origin.trim();
  }
}
