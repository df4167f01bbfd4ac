import { BadRequestException, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { PUSHER_API } from '../http-api/api-versions.js';
import { PusherSignatureGuard } from './pusher-signature.guard.js';
import { UserTerminations } from './user-terminations.js';

/** Pusher's `POST /apps/:appId/users/:userId/terminate_connections`, signed. */
@Controller({ path: 'apps/:appId/users', version: PUSHER_API })
@UseGuards(PusherSignatureGuard)
export class PusherUsersController {
  constructor(private readonly terminations: UserTerminations) {}

  /** Answers `{}` once every node has been asked; the connections close as each node gets it. */
  @Post(':userId/terminate_connections')
  @HttpCode(200)
  terminate(@Param('userId') userId: string): Record<string, never> {
    if (userId === '' || userId.length > 191) throw new BadRequestException('invalid user id');
    this.terminations.terminate(userId);
    return {};
  }
}
