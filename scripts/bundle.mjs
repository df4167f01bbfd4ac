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
// - Class names are kept: Nest names providers and log contexts after them.
// - CommonJS dependencies get a real `require` (createRequire), which also serves the few
//   requires resolved at run time (src/internals/class-validator.ts loads class-validator's members
//   by computed path) from node_modules beside dist/: the package keeps its dependencies.
// - socket.io serves /socket.io/socket.io.js from its own folder (`__dirname`), which an ES module
//   does not have: its module gets that folder, found at run time beside dist/ like the requires.
// - The transports of @nestjs/microservices that echo-relay does not use are optional packages,
//   imported only when used: left out.
// - The Admin UI's package and bcrypt stay in node_modules, imported at run time only when
//   `adminUi.enabled` (src/server/start-server.ts); the UI's static files are read from there too.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  keepNames: true,
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

await build({ ...common, entryPoints: ['dist/main.js'], outfile: 'dist/echo-relay.mjs', plugins: [commandLineOnly] });

await build({
  ...common,
  entryPoints: ['dist/server/run-server.js'],
  outfile: 'dist/echo-relay-server.mjs',
  plugins: [socketIoDirname],
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
