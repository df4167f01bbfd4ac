import { describe, expect, it } from '@jest/globals';
import { parseCliArgs, stringOption, UsageError } from './cli-args.js';

describe('parseCliArgs', () => {
  it('takes no command as a start without a pid file, with the old --config', () => {
    expect(parseCliArgs(['--config', 'x.json'])).toMatchObject({ command: undefined, values: { config: 'x.json' } });
    expect(parseCliArgs([])).toMatchObject({ command: undefined, positionals: [], help: false });
  });

  it('reads the old commands with their positionals and options', () => {
    expect(parseCliArgs(['client:add', 'app1', '--dir=/etc/echo'])).toMatchObject({
      command: 'client:add',
      positionals: ['app1'],
      values: { dir: '/etc/echo' },
    });
    expect(parseCliArgs(['start', '--force', '--dev'])).toMatchObject({ values: { force: true, dev: true } });
    expect(parseCliArgs(['configure', '-y', '--redis-prefix', ''])).toMatchObject({
      command: 'configure',
      values: { yes: true, 'redis-prefix': '' },
    });
    expect(parseCliArgs(['status', '-h'])).toMatchObject({ command: 'status', help: true });
    expect(parseCliArgs(['-v']).version).toBe(true);
  });

  it('refuses unknown commands, options of another command, and an empty --config', () => {
    expect(() => parseCliArgs(['serve'])).toThrow(new UsageError('Unknown command "serve"'));
    expect(() => parseCliArgs(['stop', '--force'])).toThrow(UsageError);
    expect(() => parseCliArgs(['init', '--port'])).toThrow(/--port/);
    expect(() => stringOption(parseCliArgs(['--config=']), 'config')).toThrow(/--config needs a value/);
  });
});
