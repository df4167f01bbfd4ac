import { describe, expect, it } from '@jest/globals';
import bcrypt from 'bcryptjs';
import { adminPasswordHash } from './admin-password.js';

describe('adminPasswordHash', () => {
  it('hashes a plain password so that only that password matches', async () => {
    const hash = await adminPasswordHash('correct horse');
    expect(hash).toMatch(/^\$2[ab]\$10\$/);
    expect(await bcrypt.compare('correct horse', hash)).toBe(true);
    expect(await bcrypt.compare('wrong horse', hash)).toBe(false);
  });

  it('takes a bcrypt hash as it is (made by htpasswd -B or bcryptjs, $2y$ or $2b$)', async () => {
    const made = bcrypt.hashSync('s3cret', 4);
    expect(await adminPasswordHash(made)).toBe(made);
    const htpasswd = made.replace(/^\$2[ab]\$/, '$2y$');
    expect(await adminPasswordHash(htpasswd)).toBe(htpasswd);
    // What the login compares against then: bcryptjs reads the $2y$ spelling as well.
    expect(await bcrypt.compare('s3cret', htpasswd)).toBe(true);
  });
});
