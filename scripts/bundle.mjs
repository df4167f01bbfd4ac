// Bundles the compiled server (dist/main.js, from tsc) into one file, dist/echo-relay.mjs, which is
// what `npm start`, the `echo-relay` bin and the Docker image run. Loading some 1,500 modules one
// by one (resolution, file reads, the CommonJS lexer) was most of echo-relay's start-up time; one
// file starts in about half the time (see bench/performance-work.md, "Reconnect storms").
//
// - Class names are kept: Nest names providers and log contexts after them.
// - CommonJS dependencies get a real `require` (createRequire), which also serves the few
//   requires resolved at run time (src/internals/class-validator.ts loads class-validator's members
//   by computed path) from node_modules beside dist/.
// - The transports of @nestjs/microservices that echo-relay does not use are optional packages,
//   imported only when used: left out.
import { build } from 'esbuild';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['dist/main.js'],
  outfile: 'dist/echo-relay.mjs',
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
  external: [
    '@nats-io/transport-node',
    'amqp-connection-manager',
    'amqplib',
    'kafkajs',
    'mqtt',
    'nats',
    '@grpc/grpc-js',
    '@grpc/proto-loader',
  ],
});
