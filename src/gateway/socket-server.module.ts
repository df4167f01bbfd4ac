import { Module } from '@nestjs/common';
import { BroadcastDelivery } from './broadcast-delivery.js';
import { FloodingClients } from './flooding-clients.js';
import { UnfinishedPackets } from './unfinished-packets.js';
import { SlowConsumers } from './slow-consumers.js';
import { SocketServer } from './socket-server.js';
import { ChannelCache } from '../pusher/channel-cache.js';
import { PusherHub } from '../pusher/pusher-hub.js';
import { NodeConnections } from '../limits/node-connections.js';

/**
 * The socket.io server as an injectable, and broadcast delivery on top of it. It imports nothing,
 * so the channels, broadcast, HTTP API and metrics features can all use it without a cycle
 * through the gateway (which itself depends on channels and auth). `SlowConsumers` disconnects
 * sockets that hold more than `limits.maxBufferedBytes` unwritten, `FloodingClients` those that
 * send more than `limits.maxMessagesPerSecond`, `UnfinishedPackets` those whose binary attachments
 * outgrow one packet. `PusherHub` holds the Pusher
 * protocol's connections in the same rooms, for delivery and presence, and `ChannelCache` the last
 * event of its cache channels, written on delivery; `NodeConnections` counts
 * both protocols' connections against the connection limits.
 */
@Module({
  providers: [
    SocketServer,
    BroadcastDelivery,
    SlowConsumers,
    FloodingClients,
    UnfinishedPackets,
    PusherHub,
    ChannelCache,
    NodeConnections,
  ],
  exports: [SocketServer, BroadcastDelivery, PusherHub, ChannelCache, NodeConnections, FloodingClients],
})
export class SocketServerModule {}
