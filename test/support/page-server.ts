import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny web server standing in for the Laravel app that serves the page running Echo. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`: the Origin the page's sockets send. */
  origin: string;
  /** Serves `html` at `path` and returns the page's URL. */
  page(path: string, html: string): string;
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1, on a free port. `scripts` maps URL paths to files read from disk
 * (e.g. `/echo.iife.js` → laravel-echo's browser build).
 */
export async function startPageServer(scripts: Record<string, string>): Promise<PageServer> {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    const html = pages.get(path);
    if (html !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else if (scripts[path]) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(scripts[path]));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    page(path, html) {
      pages.set(path, html);
      return origin + path;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
