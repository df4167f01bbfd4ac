/**
 * A request that needs Redis (cluster-wide counts through the socket.io adapter, presence members,
 * a cluster-wide publish) while Redis is unreachable. `ApiErrorFilter` answers it with 503 and
 * logs one throttled warning, not a stack trace per request.
 */
export class RedisUnavailable extends Error {
  constructor(message = 'Redis is unreachable; cluster-wide counts are unavailable') {
    super(message);
    this.name = 'RedisUnavailable';
  }
}

/** How long a Redis-backed answer may take before the API gives up with 503. */
export const REDIS_ANSWER_TIMEOUT_MS = 5000;

/**
 * Errors of ioredis and of the socket.io Redis adapter that mean "Redis is not there", not a
 * fault of ours: a command refused while the connection is down (`enableOfflineQueue: false`), a
 * connection closed under a command, retries given up, or the adapter's wait for the other nodes'
 * answers running out (their requests and answers travel through Redis).
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return /enableOfflineQueue|Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|timeout reached while waiting for \w+ response/.test(
    err.message,
  );
}

/**
 * Runs a Redis-backed read for the HTTP API: refused at once while `connected()` says Redis is
 * down, and turned into `RedisUnavailable` when it fails for lack of Redis or takes longer than
 * `timeoutMs` (commands queued for a reconnect would otherwise hold the request open).
 */
export async function whileRedisAnswers<T>(
  connected: () => boolean,
  read: () => Promise<T>,
  timeoutMs = REDIS_ANSWER_TIMEOUT_MS,
): Promise<T> {
  if (!connected()) throw new RedisUnavailable();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailable(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const pending = read();
  pending.catch(() => undefined);
  try {
    return await Promise.race([pending, timeout]);
  } catch (err) {
    if (err instanceof RedisUnavailable) throw err;
    if (isRedisConnectionError(err) || !connected()) throw new RedisUnavailable();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
