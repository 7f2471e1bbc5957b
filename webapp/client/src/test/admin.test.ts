import { describe, expect, it } from 'vitest';
import { ownerName, parseTokens, parseUsers, shortTime } from '../model/admin';

describe('the admin lists', () => {
  it('reads GET /api/users, skipping malformed entries', () => {
    const users = parseUsers({ items: [{ id: 1, name: 'admin', role: 'admin', disabled: false, created_at: '2026-12-01T10:00:00+00:00' }, { id: 'x', name: 'bad' }, { id: 2, name: 'ann', role: 'user', disabled: true }] });
    expect(users).toEqual([
      { id: 1, name: 'admin', role: 'admin', disabled: false, created_at: '2026-12-01T10:00:00+00:00' },
      { id: 2, name: 'ann', role: 'user', disabled: true, created_at: '' },
    ]);
    expect(parseUsers(null)).toEqual([]);
  });

  it('reads GET /api/tokens with string ids and names the owner', () => {
    const tokens = parseTokens({ items: [{ id: 7, user_id: 2, name: 'ci', scopes: ['read'], created_at: '2026-12-01T10:00:00', last_used_at: null }, { name: 'no id' }] });
    expect(tokens).toEqual([{ id: '7', user_id: 2, name: 'ci', scopes: ['read'], created_at: '2026-12-01T10:00:00', last_used_at: null }]);
    const users = parseUsers({ items: [{ id: 2, name: 'ann', role: 'user' }] });
    expect(ownerName(users, 2)).toBe('ann');
    expect(ownerName(users, 3)).toBe('user 3');
    expect(shortTime('2026-12-01T10:00:59.123+00:00')).toBe('2026-12-01 10:00');
    expect(shortTime(null)).toBe('—');
  });
});
