import { describe, expect, it } from '@jest/globals';
import { ConfigError, fromLegacyFile, loadConfig } from '../config/load-config.js';

const cwd = '/nonexistent-dir-for-config-tests';
const HASH = '$2b$10$' + 'a'.repeat(53);

describe('adminUi settings', () => {
  it('are off by default, with "admin" as the login name', () => {
    expect(loadConfig({ cwd, env: {} }).config.adminUi).toEqual({ enabled: false, username: 'admin', password: '' });
  });

  it('come from the "adminUi" block of the file and from ECHO_RELAY_ADMIN_UI_* variables, the latter winning', () => {
    const warnings: string[] = [];
    const file = { adminUi: { enabled: true, username: 'dev', password: 'from-file' } };
    expect(fromLegacyFile(file, warnings)).toEqual(file);
    expect(warnings).toEqual([]);
    const { config } = loadConfig({
      cwd,
      env: {
        ECHO_RELAY_ADMIN_UI_ENABLED: 'yes',
        ECHO_RELAY_ADMIN_UI_USERNAME: 'ops',
        ECHO_RELAY_ADMIN_UI_PASSWORD: HASH,
      },
    });
    expect(config.adminUi).toEqual({ enabled: true, username: 'ops', password: HASH });
  });

  it('stop startup when the UI is enabled without a password or a login name, naming the keys', () => {
    const load = (env: Record<string, string>): unknown => loadConfig({ cwd, env });
    expect(() => load({ ECHO_RELAY_ADMIN_UI_ENABLED: 'true' })).toThrow(ConfigError);
    expect(() => load({ ECHO_RELAY_ADMIN_UI_ENABLED: 'true' })).toThrow(
      'Invalid configuration: adminUi.password (file "adminUi.password", env ECHO_RELAY_ADMIN_UI_PASSWORD): ' +
        'required when adminUi.enabled is true',
    );
    expect(() =>
      load({
        ECHO_RELAY_ADMIN_UI_ENABLED: 'true',
        ECHO_RELAY_ADMIN_UI_USERNAME: ' ',
        ECHO_RELAY_ADMIN_UI_PASSWORD: 'x',
      }),
    ).toThrow('adminUi.username (file "adminUi.username", env ECHO_RELAY_ADMIN_UI_USERNAME): must not be empty');
    // Disabled, a missing password is no problem: nothing is served.
    expect(load({ ECHO_RELAY_ADMIN_UI_USERNAME: 'ops' })).toBeDefined();
  });

  it('refuse a plain password bcrypt would cut short, but take a hash of any origin', () => {
    const env = { ECHO_RELAY_ADMIN_UI_ENABLED: 'true' };
    expect(() => loadConfig({ cwd, env: { ...env, ECHO_RELAY_ADMIN_UI_PASSWORD: 'p'.repeat(73) } })).toThrow(
      'adminUi.password (file "adminUi.password", env ECHO_RELAY_ADMIN_UI_PASSWORD): at most 72 bytes',
    );
    expect(loadConfig({ cwd, env: { ...env, ECHO_RELAY_ADMIN_UI_PASSWORD: 'p'.repeat(72) } })).toBeDefined();
  });

  it('report a typo under "adminUi" with the key it resembles, and a wrong type by its key', () => {
    expect(() => fromLegacyFile({ adminUi: { enabled: true, pasword: 'x' } })).toThrow(
      '"adminUi.pasword" in the config file: unknown key, did you mean "password"?',
    );
    expect(() => fromLegacyFile({ adminUi: 'on' })).toThrow(
      '"adminUi" in the config file: expected an object {...}, got a string',
    );
    expect(() => loadConfig({ cwd, env: { ECHO_RELAY_ADMIN_UI_ENABLED: 'sure' } })).toThrow(
      'env ECHO_RELAY_ADMIN_UI_ENABLED: expected true or false, got "sure"',
    );
    expect(() => loadConfig({ cwd, env: { ECHO_RELAY_ADMIN_UI_PASWORD: 'x' } })).toThrow(
      'env ECHO_RELAY_ADMIN_UI_PASWORD: unknown variable, did you mean ECHO_RELAY_ADMIN_UI_PASSWORD?',
    );
  });
});
