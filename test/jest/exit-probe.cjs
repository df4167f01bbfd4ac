// Diagnosis only, not loaded by any run: why a Jest worker is slow to exit ("A worker process has
// failed to exit gracefully"). Load it into every worker and look at the files it writes:
//
//   EXIT_PROBE_DIR=/tmp/exit-probe NODE_OPTIONS="--require ./test/jest/exit-probe.cjs" npm run jest
//
// One file per worker: each spec file it ran, Jest's end message (with the resources still open),
// the 'exit' event (with the handles left), and when the process was gone.
'use strict';
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const dir = process.env.EXIT_PROBE_DIR;
if (dir && process.send) {
  fs.mkdirSync(dir, { recursive: true });
  const file = `${dir}/worker-${process.pid}.txt`;
  const log = (line) => fs.appendFileSync(file, `${Date.now()} ${line}\n`);
  // jest-worker's messages: [1, …, method, [test]] runs a spec file, [2] asks the worker to end.
  // Each listener goes at the end message: a 'message' listener keeps the IPC channel open.
  process.on('message', function onMessage(message) {
    if (!Array.isArray(message)) return;
    if (message[0] === 1) log(`call ${JSON.stringify(message[3]?.[0]?.path ?? '')}`);
    if (message[0] !== 2) return;
    process.removeListener('message', onMessage);
    const rss = Math.round(process.memoryUsage().rss / 1048576);
    const sockets = process
      ._getActiveHandles()
      .filter((handle) => handle?.constructor?.name === 'Socket' && !handle._isStdio && handle.fd === undefined)
      .map((socket) => `${socket._host ?? ''}:${socket.localPort}->${socket.remotePort} ${socket.readyState}`);
    log(`end asked rss=${rss}MiB resources=${process.getActiveResourcesInfo().join(',')} tcp=${sockets.join(' ')}`);
  });
  process.on('exit', () => {
    const handles = process._getActiveHandles().map((handle) => handle?.constructor?.name);
    log(`exit event handles=${handles.join(',')}`);
    const wait = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.02; done; echo "$(date +%s%3N) gone" >> ${file}`;
    spawn('sh', ['-c', wait], { detached: true, stdio: 'ignore' }).unref();
  });
}
