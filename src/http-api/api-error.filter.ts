import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { DropReason } from '../broadcast/ingest-result.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { isApiPath, isPublishRequest, type ApiRequest, type ApiResponse } from './api-request.js';
import { DroppedMessage } from './dropped-message.js';
import { describeRefusal } from './publish-request.js';
import { RedisUnavailable } from './redis-unavailable.js';

/** Express body-parser failures (the `type` of its errors) as drop reasons. */
const REASON_BY_PARSER_ERROR: Record<string, DropReason> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'too_large',
  'charset.unsupported': 'invalid_utf8',
  'encoding.unsupported': 'invalid_json',
};

/** Refused publishes that are not the caller's mistake in the body's shape; any other is a 400. */
const STATUS_BY_REASON: Partial<Record<DropReason, number>> = {
  http_disabled: 403,
  // Pusher's `data` over `maxMessageBytes` (a body over `apiMaxBodyBytes` is the parser's 413).
  too_large: 413,
};

interface ParserError extends Error {
  type: string;
  limit?: number;
}

/**
 * The one place where a failure on `/apps/...` becomes what the caller sees: `{"error": "..."}`
 * with a 4xx status naming the problem, 503 while Redis is unreachable (one throttled warning), and
 * 500 only for our own faults (logged with their stack). Failed
 * publishes are counted as dropped messages, including bodies Express's parser refused before any
 * handler ran. Registered globally so that those parser errors reach it; other paths get Nest's
 * usual answer.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('HttpApi');
  private readonly dropLog = new ThrottledLog(this.log);
  private readonly fallback: BaseExceptionFilter;

  constructor(
    adapterHost: HttpAdapterHost,
    private readonly metrics: RelayMetrics,
  ) {
    this.fallback = new BaseExceptionFilter(adapterHost.httpAdapter);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<ApiRequest>();
    if (host.getType() !== 'http' || !isApiPath(req.path)) return this.fallback.catch(exception, host);
    const { status, message: described, drop } = this.describe(exception);
    // Nest's own 404 text repeats the URL, query string and so `auth_key` included.
    const message = status === 404 ? `no such endpoint: ${req.method} ${req.path}` : described;
    if (drop && isPublishRequest(req)) {
      this.metrics.messagesReceived.inc({ source: 'http' });
      this.metrics.messagesDropped.inc({ reason: drop });
      this.dropLog.warn(drop, `Refused event published over HTTP: ${drop} (${message})`);
    }
    if (exception instanceof RedisUnavailable) {
      // Expected while Redis is away, and every dashboard poll would repeat it: one line now and then.
      this.dropLog.warn('redis_unavailable', `HTTP API answered 503: ${message}`);
    } else if (status >= 500)
      this.log.error(exception instanceof Error ? (exception.stack ?? exception.message) : exception);
    host.switchToHttp().getResponse<ApiResponse>().status(status).json({ error: message });
  }

  private describe(exception: unknown): { status: number; message: string; drop?: DropReason } {
    if (exception instanceof DroppedMessage) {
      return {
        status: STATUS_BY_REASON[exception.reason] ?? 400,
        message: describeRefusal(exception),
        drop: exception.reason,
      };
    }
    if (exception instanceof RedisUnavailable) return { status: 503, message: exception.message };
    if (!(exception instanceof HttpException)) return { status: 500, message: 'Internal server error' };
    const parser = parserError(exception.cause);
    if (parser) {
      const drop = REASON_BY_PARSER_ERROR[parser.type] ?? 'invalid_json';
      return { status: exception.getStatus(), message: parserMessage(parser), drop };
    }
    return { status: exception.getStatus(), message: messageOf(exception) };
  }
}

function parserError(cause: unknown): ParserError | undefined {
  if (!(cause instanceof Error)) return undefined;
  const { type } = cause as Partial<ParserError>;
  return typeof type === 'string' && type in REASON_BY_PARSER_ERROR ? (cause as ParserError) : undefined;
}

function parserMessage(error: ParserError): string {
  switch (error.type) {
    case 'entity.parse.failed':
      return `request body is not valid JSON: ${error.message}`;
    case 'entity.too.large':
      return `request body is larger than ${error.limit} bytes`;
    default:
      return `request body cannot be read: ${error.message}`;
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
