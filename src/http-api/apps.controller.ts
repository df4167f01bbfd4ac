import { BadRequestException, Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { channelNameProblem, channelType } from '../channels/channel-type.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ECHO_API } from './api-versions.js';
import { ChannelStats, type ChannelInfo } from './channel-stats.service.js';

/** The read side of laravel-echo-server's HTTP API, same paths and shapes. */
@Controller({ path: 'apps/:appId', version: ECHO_API })
@UseGuards(ApiKeyGuard)
export class AppsController {
  constructor(private readonly stats: ChannelStats) {}

  @Get('status')
  status(): ReturnType<ChannelStats['status']> {
    return this.stats.status();
  }

  @Get('channels')
  async channels(@Query('filter_by_prefix') prefix: unknown): Promise<{ channels: Record<string, ChannelInfo> }> {
    return { channels: await this.stats.channels(typeof prefix === 'string' ? prefix : '') };
  }

  @Get('channels/:channel')
  channel(@Param('channel') channel: string): Promise<ChannelInfo> {
    return this.stats.channel(validChannel(channel));
  }

  @Get('channels/:channel/users')
  async users(@Param('channel') channel: string): Promise<{ users: Awaited<ReturnType<ChannelStats['users']>> }> {
    if (channelType(validChannel(channel)) !== 'presence') {
      // The old server's message: dashboards show it as is.
      throw new BadRequestException('User list is only possible for Presence Channels');
    }
    return { users: await this.stats.users(channel) };
  }
}

function validChannel(name: string): string {
  const problem = channelNameProblem(name);
  if (problem === undefined) return name;
  throw new BadRequestException(`invalid channel name "${String(name).slice(0, 50)}": ${problem}`);
}
