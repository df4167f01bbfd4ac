// Bundles the compiled server (dist/, from tsc) into two files:
//
// - dist/echo-relay.mjs, from dist/main.js: the command line (src/cli). What `npm start`, the
//   `echo-relay` bin and the Docker image run. It must not contain Nest: `--help`, `init`, `stop`
//   and `status` answer without loading the server, so a Nest import here fails the build.
// - dist/echo-relay-server.mjs, from dist/server/run-server.js: the server, which the first file
//   imports for `start` only. Loading some 1,500 modules one by one (resolution, file reads, the
//   CommonJS lexer) was most of echo-relay's start-up time; one file starts in about half the time
//   (see bench/performance-work.md, "Reconnect storms").
//
// - Class and function names are kept (Nest names providers, modules and log contexts after
//   them; bundling renames colliding top-level names), except in the packages a connect and a
//   delivery run through (socket.io, engine.io, ws, rxjs, ...), which read no names: keeping one
//   costs an `Object.defineProperty` each time a named closure is created, on every connect.
// - CommonJS dependencies get a real `require` (createRequire), which also serves the few
//   requires resolved at run time (src/internals/class-validator.ts loads class-validator's members
//   by computed path) from node_modules beside dist/: the package keeps its dependencies.
// - socket.io serves /socket.io/socket.io.js from its own folder (`__dirname`), which an ES module
//   does not have: its module gets that folder, found at run time beside dist/ like the requires.
// - The transports of @nestjs/microservices that echo-relay does not use are optional packages,
//   imported only when used: left out.
// - The Admin UI's package and bcrypt stay in node_modules, imported at run time only when
//   `adminUi.enabled` (src/server/start-server.ts); the UI's static files are read from there too.
//   The worker thread that compares its passwords runs code held as a string in this bundle
//   (src/admin-ui/bcrypt-worker.ts), and loads bcryptjs from node_modules as well: no file to add.
import { build, transform } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Per file instead: see `namesKept`.
  keepNames: false,
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __echoRelayRequire } from 'node:module'; const require = __echoRelayRequire(import.meta.url);",
  },
};

/** Keeps the command line light: the server is the other file, and Nest may not creep in. */
const commandLineOnly = {
  name: 'command-line-only',
  setup(b) {
    b.onResolve({ filter: /run-server\.js$/ }, () => ({ path: './echo-relay-server.mjs', external: true }));
    b.onResolve({ filter: /^@nestjs\// }, (args) => ({
      errors: [{ text: `${args.importer} imports ${args.path}: the command line must not load Nest` }],
    }));
  },
};

/** Matches a file of one of the packages named (`@scope/*`: every package of the scope). */
function inPackages(names) {
  const folders = names.map((name) => name.replaceAll('.', '\\.').replace('/*', '[\\\\/][^\\\\/]+'));
  return new RegExp(`[\\\\/]node_modules[\\\\/](?:${folders.join('|')})[\\\\/]`);
}

/** socket.io and engine.io, with their parser and adapters: they log through `debug`. */
const SOCKET_IO = ['socket.io', 'socket.io-parser', 'socket.io-adapter', '@socket.io/*', 'engine.io'];

/** Packages on the connect and delivery paths that never read a function's or class's name. */
const NAMELESS = inPackages([
  ...SOCKET_IO,
  'engine.io-parser',
  'ws',
  'rxjs',
  'notepack.io',
  'debug',
  'ms',
  'negotiator',
  'accepts',
  'cookie',
  'base64id',
  'cors',
  'vary',
  'object-assign',
]);

/**
 * esbuild's `keepNames` for every file but those of `NAMELESS`: the file is transformed with it
 * before bundling. Its own source map, if linked, is inlined first, so that the bundle's map
 * still leads to the TypeScript sources (esbuild chains an inline input map).
 */
const namesKept = {
  name: 'names-kept',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      if (NAMELESS.test(args.path)) return undefined;
      let source = await readFile(args.path, 'utf8');
      const linked = /\/\/# sourceMappingURL=(?!data:)(\S+)\s*$/.exec(source);
      if (linked) {
        const map = await readFile(resolve(dirname(args.path), linked[1])).catch(() => undefined);
        source =
          source.slice(0, linked.index) +
          (map ? `//# sourceMappingURL=data:application/json;base64,${map.toString('base64')}\n` : '');
      }
      const out = await transform(source, {
        loader: 'js',
        keepNames: true,
        target: common.target,
        sourcemap: 'inline',
        sourcefile: args.path,
      });
      return { contents: out.code, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const DEBUG_LOGGERS = inPackages(SOCKET_IO);

/**
 * `debug` for socket.io, engine.io and their parser and adapters, as it is at start-up: a
 * namespace that `DEBUG` does not enable gets a function that does nothing. Theirs logs nothing
 * either but, called with the arguments of a log line on every connect, packet and write, gathers
 * them into an array and reads a getter first (some 3 KB per connect). `DEBUG=engine,socket.io*`
 * works as before; enabling namespaces later from code (`debug.enable`) does not reach them.
 */
const debugWhenEnabled = {
  name: 'debug-when-enabled',
  setup(b) {
    b.onResolve({ filter: /^debug$/ }, async (args) => {
      if (args.pluginData === 'real' || !DEBUG_LOGGERS.test(args.importer)) return undefined;
      const real = await b.resolve('debug', { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'real' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'debug-when-enabled' };
    });
    b.onLoad({ filter: /.*/, namespace: 'debug-when-enabled' }, (args) => ({
      contents: `const real = require(${JSON.stringify(args.path)});
function off() {}
off.enabled = false;
off.namespace = '';
off.log = off;
off.destroy = off;
off.extend = () => off;
function createDebug(namespace) {
  return real.enabled(namespace) ? real(namespace) : off;
}
module.exports = Object.assign(createDebug, real, { default: createDebug });
`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/** socket.io's dist/index.js, with the `__dirname` its client files are read from. */
const socketIoDirname = {
  name: 'socket.io-dirname',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]socket\.io[\\/]dist[\\/]index\.js$/ }, async (args) => ({
      contents:
        "var __dirname = require('node:path').dirname(require.resolve('socket.io'));\n" +
        (await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

await build({
  ...common,
  entryPoints: ['dist/main.js'],
  outfile: 'dist/echo-relay.mjs',
  plugins: [commandLineOnly, namesKept],
});

await build({
  ...common,
  entryPoints: ['dist/server/run-server.js'],
  outfile: 'dist/echo-relay-server.mjs',
  plugins: [socketIoDirname, debugWhenEnabled, namesKept],
  external: [
    '@nats-io/transport-node',
    'amqp-connection-manager',
    'amqplib',
    'kafkajs',
    'mqtt',
    'nats',
    '@grpc/grpc-js',
    '@grpc/proto-loader',
    '@socket.io/admin-ui',
    'bcryptjs',
  ],
});
