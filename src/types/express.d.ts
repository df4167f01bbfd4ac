/**
 * The part of Express used directly: its JSON body parser (body-parser's), which Nest's
 * `useBodyParser` would otherwise create. Express is the one `@nestjs/platform-express` runs.
 */
declare module 'express' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

  interface JsonOptions {
    limit?: number | string;
    verify?: (req: IncomingMessage, res: ServerResponse, body: Buffer, encoding: string) => void;
    /** Which requests' bodies are parsed: a media type, or a function of the request. */
    type?: string | string[] | ((req: IncomingMessage) => boolean);
  }

  const express: { json(options?: JsonOptions): Handler };
  export default express;
}
