import { BCRYPT_HASH } from './admin-ui.config.js';

/** bcrypt's cost for a password hashed at startup: about 0.1 s per login attempt in bcryptjs. */
const ROUNDS = 10;

/**
 * The bcrypt hash the Admin UI's basic authentication compares logins against: `password` itself
 * when it is one already, else its hash, made once at startup so the plain text is not kept.
 */
export async function adminPasswordHash(password: string): Promise<string> {
  if (BCRYPT_HASH.test(password)) return password;
  // Imported here, not at the top: the server bundle keeps packages out, and a static import of
  // one is evaluated at startup whether the UI is enabled or not.
  const { default: bcrypt } = await import('bcryptjs');
  return bcrypt.hash(password, ROUNDS);
}
