import { describe, expect, it } from 'vitest';
import xs from 'xstream';
import { makeHttpDriver, problemText, type HttpRequest, type HttpResponse } from '../drivers/http';

describe('the HTTP driver', () => {
  it('remembers the CSRF token from the login answer and sends it on unsafe requests', async () => {
    const sent: { url: string; init: RequestInit }[] = [];
    const driver = makeHttpDriver(async (url, init) => {
      sent.push({ url, init });
      const body = url === '/api/auth/login' ? { id: 1, csrf_token: 'tok' } : { ok: true };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    });
    const request$ = xs.create<HttpRequest>();
    const got: HttpResponse[] = [];
    driver(request$).select().addListener({ next: (r) => got.push(r) });
    request$.shamefullySendNext({ category: 'login', url: '/api/auth/login', method: 'POST', body: {} });
    await new Promise((r) => setTimeout(r, 10));
    request$.shamefullySendNext({ category: 'x', url: '/api/jobs/1', method: 'DELETE' });
    await new Promise((r) => setTimeout(r, 10));
    expect((sent[1]?.init.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok');
    expect(got.map((r) => r.category)).toEqual(['login', 'x']);
  });
  it('reads problem bodies into one line', () => {
    expect(problemText(401, { title: 'authentication required', detail: 'log in' })).toBe('authentication required: log in');
    expect(problemText(0, null)).toBe('the server could not be reached');
  });
});
