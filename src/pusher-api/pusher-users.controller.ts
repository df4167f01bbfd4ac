import { BadRequestException, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { MAX_USER_ID_LENGTH } from '../channels/presence-member.js';
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
    if (userId === '' || userId.length > MAX_USER_ID_LENGTH) {
      // No presence member can have it: nothing to close, and nothing worth sending to every node.
      throw new BadRequestException(`the user id must be 1 to ${MAX_USER_ID_LENGTH} characters`);
    }
    this.terminations.terminate(userId);
    return {};
  }
}
