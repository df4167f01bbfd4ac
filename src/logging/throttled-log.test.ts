import { describe, expect, it } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { ThrottledLog } from './throttled-log.js';

/** A logger that keeps what it was given. */
function recording(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: { warn: (message: string) => lines.push(message) } as unknown as Logger, lines };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ThrottledLog', () => {
  it('writes the first message of a key, holds back the rest of its interval and counts them when it ends', async () => {
    const { logger, lines } = recording();
    const log = new ThrottledLog(logger, 200);
    for (let i = 1; i <= 9; i++) log.warn('bad frame', `bad frame ${i}`);
    log.warn('other', 'another reason');
    expect(lines).toEqual(['bad frame 1', 'another reason']);
    // Nothing more of the key arrives: the count still reaches the log once the interval is over.
    await sleep(300);
    expect(lines).toEqual([
      'bad frame 1',
      'another reason',
      '8 similar in the last 0.2s not shown; the last: bad frame 9',
    ]);
    // A new interval starts with the next message, written at once.
    log.warn('bad frame', 'bad frame 10');
    expect(lines.at(-1)).toBe('bad frame 10');
    await sleep(300);
    expect(lines).toHaveLength(4);
  });
});
