import { Injectable } from '@nestjs/common';

/** Whether this node is going away; readiness fails from the first moment of a shutdown. */
@Injectable()
export class LifecycleService {
  private drainingSince?: number;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }
}
