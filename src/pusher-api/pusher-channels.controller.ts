import { BadRequestException, Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { channelNameProblem } from '../channels/channel-type.js';
import { PUSHER_API } from '../http-api/api-versions.js';
import { attributesQuery, PusherChannels, type PusherChannelInfo } from './pusher-channels.service.js';
import { PusherSignatureGuard } from './pusher-signature.guard.js';

/** Pusher's channel queries: `GET /apps/:appId/channels[/:channel[/users]]`, signed. */
@Controller({ path: 'apps/:appId/channels', version: PUSHER_API })
@UseGuards(PusherSignatureGuard)
export class PusherChannelsController {
  constructor(private readonly channels: PusherChannels) {}

  @Get()
  async list(
    @Query('filter_by_prefix') prefix: unknown,
    @Query('info') info: unknown,
  ): Promise<{ channels: Record<string, PusherChannelInfo> }> {
    const filter = typeof prefix === 'string' ? prefix : '';
    return { channels: await this.channels.list(filter, attributesQuery(info)) };
  }

  @Get(':channel')
  one(@Param('channel') channel: string, @Query('info') info: unknown): Promise<PusherChannelInfo> {
    return this.channels.one(validChannel(channel), attributesQuery(info));
  }

  @Get(':channel/users')
  async users(@Param('channel') channel: string): Promise<{ users: { id: string }[] }> {
    return { users: await this.channels.users(validChannel(channel)) };
  }
}

function validChannel(name: string): string {
  const problem = channelNameProblem(name);
  if (problem === undefined) return name;
  throw new BadRequestException(`invalid channel name "${String(name).slice(0, 50)}": ${problem}`);
}
