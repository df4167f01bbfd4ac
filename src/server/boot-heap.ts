import { setFlagsFromString } from 'node:v8';

/**
 * V8 doubles the young generation whenever most of it survives a scavenge, which is what loading
 * ~1,400 modules and building the app looks like: by ready it has grown to 2 x 16 MB, touched and
 * kept, about 20 MB of the RSS before any client (bench/boot.mjs). `holdYoungGeneration` stops that
 * growth for the boot; `releaseYoungGeneration` gives V8 back its factor once the server is up, so
 * under load the young generation grows as before. Neither does anything when the factor was set
 * on the command line or in NODE_OPTIONS.
 *
 * Whether it is held is kept on `globalThis`, not in this module: the command line
 * (`dist/echo-relay.mjs`) holds it and the server (`dist/echo-relay-server.mjs`) releases it, and
 * each bundle has its own copy of this module. With the flag in a module variable the release saw
 * nothing held, and V8 kept a 1 MB young generation for the life of the process: ten times the
 * scavenges under load (bench/performance-work.md, "fifth look").
 */
const V8_GROWTH_FACTOR = 2; // V8's default --semi-space-growth-factor
const SET_BY_USER = /semi[-_]space[-_]growth[-_]factor/.test(
  `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`,
);
const HELD = Symbol.for('echo-relay.young-generation-held');
const state = globalThis as { [HELD]?: boolean };

export function holdYoungGeneration(): void {
  if (SET_BY_USER || state[HELD]) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  state[HELD] = true;
}

export function releaseYoungGeneration(): void {
  if (!state[HELD]) return;
  setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
  state[HELD] = false;
}
