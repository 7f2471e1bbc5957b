// The admin page's lists, read from GET /api/users and GET /api/tokens: pure, unit-tested.
import type { TokenEntry, UserEntry } from './types';

type Rec = Record<string, unknown>;
const itemsOf = (body: unknown): Rec[] => {
  const items = (body as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? items.filter((i): i is Rec => typeof i === 'object' && i !== null) : [];
};

/** Accounts, in the order the server lists them; entries missing a field are skipped. */
export function parseUsers(body: unknown): UserEntry[] {
  return itemsOf(body)
    .filter((u) => typeof u['id'] === 'number' && typeof u['name'] === 'string' && typeof u['role'] === 'string')
    .map((u) => ({
      id: u['id'] as number,
      name: u['name'] as string,
      role: u['role'] as string,
      disabled: u['disabled'] === true,
      created_at: typeof u['created_at'] === 'string' ? u['created_at'] : '',
    }));
}

/** API tokens (never their secrets): ids become strings, as the revoke route takes them. */
export function parseTokens(body: unknown): TokenEntry[] {
  return itemsOf(body)
    .filter((t) => (typeof t['id'] === 'number' || typeof t['id'] === 'string') && typeof t['name'] === 'string')
    .map((t) => ({
      id: String(t['id']),
      name: t['name'] as string,
      scopes: Array.isArray(t['scopes']) ? t['scopes'].map(String) : [],
      ...(typeof t['user_id'] === 'number' ? { user_id: t['user_id'] } : {}),
      ...(typeof t['created_at'] === 'string' ? { created_at: t['created_at'] } : {}),
      last_used_at: typeof t['last_used_at'] === 'string' ? t['last_used_at'] : null,
    }));
}

/** "2026-12-02T10:15:30.123+00:00" -> "2026-12-02 10:15" (the page shows minutes). */
export const shortTime = (iso: string | null | undefined): string => (typeof iso === 'string' && iso.length >= 16 ? iso.slice(0, 16).replace('T', ' ') : '—');

/** Whose a token is: the account name when the user list has it. */
export function ownerName(users: readonly UserEntry[], userId: number | undefined): string {
  if (userId === undefined) return 'you';
  return users.find((u) => u.id === userId)?.name ?? `user ${userId}`;
}
