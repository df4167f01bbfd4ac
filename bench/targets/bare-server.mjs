// @ts-check
// The cost floor: socket.io 4.8.3 + ioredis and nothing else.
// psubscribe('*'), parse each message, emit (channel, data) to the room;
// `subscribe` joins the room. Accepts Engine.IO 3 and 4 clients.
//
// env: PORT, REDIS_URL (redis://127.0.0.1:6379)

import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT || 6001);
const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
const http = createServer();
const io = new Server(http, { allowEIO3: true });

io.on('connection', (socket) => {
  socket.on('subscribe', (d) => {
    if (d && typeof d.channel === 'string') socket.join(d.channel);
  });
});

redis.on('pmessage', (_pattern, channel, message) => {
  let m;
  try {
    m = JSON.parse(message);
  } catch {
    return;
  }
  io.to(channel).emit(m.event, channel, m.data);
});

await redis.psubscribe('*');
http.listen(port, '127.0.0.1', () => console.log(`bare server on ${port}`));

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
