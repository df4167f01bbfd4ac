import { waitUntil } from './ports.js';
import type { TestEcho } from './echo-client.js';

/** What Echo's `here/joining/leaving` callbacks of one presence channel received (user_info values). */
export interface PresenceView {
  here: unknown[];
  joining: unknown[];
  leaving: unknown[];
}

/** `echo.join(room)` with every callback recorded; resolves once `here()` was called. */
export async function joinPresence(echo: TestEcho, room: string): Promise<PresenceView> {
  const view: PresenceView = { here: [], joining: [], leaving: [] };
  let answered = false;
  echo
    .join(room)
    .here((users: unknown[]) => {
      view.here = users;
      answered = true;
    })
    .joining((user: unknown) => view.joining.push(user))
    .leaving((user: unknown) => view.leaving.push(user));
  await waitUntil(() => answered, 5000, `here() in ${room}`);
  return view;
}

/** Users in a stable order, for comparing `here` lists. */
export function byJson(users: unknown[]): unknown[] {
  return [...users].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
