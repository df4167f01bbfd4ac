import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';

/** Where the UI is served, and the socket.io namespace it talks to. */
export const ADMIN_PATH = '/admin';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

/** Where the icon font the UI's page links to is served from (`@mdi/font`, in place of its CDN link). */
const ICONS_PATH = `${ADMIN_PATH}/mdi`;
const ICONS_STYLESHEET = 'css/materialdesignicons.min.css';

/** One file of the UI, read on first request and kept. */
interface UiFile {
  path: string;
  type: string;
  body?: Buffer;
}

type Next = (err?: unknown) => void;

const packageDirectory = (name: string): string =>
  dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

/** The built UI that ships in the package (`ui/dist`). */
function uiDirectory(): string {
  return join(packageDirectory('@socket.io/admin-ui'), 'ui', 'dist');
}

/**
 * The icon font's stylesheet and the two font formats every browser the UI runs in takes (woff2,
 * and woff before it), by URL path under `ICONS_PATH`. The stylesheet names the fonts relative to
 * itself (`../fonts/...?v=`), so they resolve under the same prefix; the query is not part of the path.
 */
function iconFiles(): Map<string, UiFile> {
  const root = packageDirectory('@mdi/font');
  const files = new Map<string, UiFile>();
  for (const name of [
    ICONS_STYLESHEET,
    'fonts/materialdesignicons-webfont.woff2',
    'fonts/materialdesignicons-webfont.woff',
  ]) {
    files.set(`${ICONS_PATH}/${name}`, { path: join(root, name), type: TYPES[extname(name)] });
  }
  return files;
}

/**
 * The files the UI may serve, by URL path: a fixed list made once from the package's directory, so
 * no request path is ever joined onto the file system. Source maps are left out.
 */
function listFiles(root: string): Map<string, UiFile> {
  const files = new Map<string, UiFile>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(`${ADMIN_PATH}/${relative(root, path).split(sep).join('/')}`, { path, type });
  }
  return files;
}

/**
 * The UI's page, pointed at this server: its connection form starts filled with this origin, the
 * socket.io path and the `/admin` namespace (the UI keeps them in `localStorage`, per origin). Its
 * link to the icon font's CDN points at the copy served here instead, and its other links to other
 * hosts (Google Fonts) are dropped, so it loads nothing from elsewhere (text falls back to the
 * system font).
 */
export function relayIndexPage(html: string, socketPath: string): string {
  const settings = { server_url: null, path: socketPath, namespace: ADMIN_PATH };
  const script =
    `<script>try{var s=${JSON.stringify(settings)};s.server_url=location.origin;` +
    `for(var k in s)localStorage.setItem(k,s[k])}catch(e){}</script>`;
  const icons = `<link rel="stylesheet" href="${ICONS_PATH.slice(ADMIN_PATH.length + 1)}/${ICONS_STYLESHEET}">`;
  return html
    .replace(/<link rel="stylesheet" href="https:\/\/[^"]*\/@mdi\/font[@/][^"]*">/, icons)
    .replace(/<link rel="stylesheet" href="https:\/\/[^"]*">/g, '')
    .replace('<script', `${script}<script`);
}

/**
 * Express middleware serving the UI at `/admin/` (`/admin` redirects there, so the page's relative
 * links resolve). `socketPath` is read on the first request, when the socket.io server exists.
 * `refuse(req)` true sends the request on to the 404 (the separate HTTP API listener, where no
 * socket.io server answers the UI).
 */
export function adminUiFiles(
  socketPath: () => string,
  refuse: (req: IncomingMessage) => boolean,
): (req: IncomingMessage & { path: string }, res: ServerResponse, next: Next) => void {
  const root = uiDirectory();
  const files = listFiles(root);
  for (const [path, file] of iconFiles()) files.set(path, file);
  const index: UiFile = { path: join(root, 'index.html'), type: TYPES['.html'] };
  files.set(`${ADMIN_PATH}/index.html`, index);
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.path.startsWith(ADMIN_PATH) || refuse(req)) {
      return next();
    }
    if (req.path === ADMIN_PATH) {
      res.writeHead(301, { Location: `${ADMIN_PATH}/` }).end();
      return;
    }
    const file = req.path === `${ADMIN_PATH}/` ? index : files.get(req.path);
    if (!file) return next();
    try {
      file.body ??=
        file === index
          ? Buffer.from(relayIndexPage(readFileSync(file.path, 'utf8'), socketPath()))
          : readFileSync(file.path);
    } catch (err) {
      return next(err);
    }
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': file.body.length,
      // The assets' names carry their content hash; the page itself must be checked each time.
      'Cache-Control': file === index ? 'no-cache' : 'public, max-age=86400',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
