// HTTP driver: requests in, responses out, grouped by category. fetch() sends the session cookie
// (same origin); unsafe methods carry the CSRF token the server handed out with the session
// (`csrf_token` in the login and /api/auth/me answers), which the driver remembers the way the
// browser remembers the cookie, so components never thread it through their state.
import xs, { type Stream } from 'xstream';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  readonly category: string;
  readonly url: string;
  readonly method?: Method;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as multipart/form-data instead of `body` (uploads). */
  readonly form?: FormData;
  /** Anything the caller wants back with the answer (which item, which attempt). */
  readonly tag?: unknown;
}

export interface HttpResponse {
  readonly category: string;
  readonly request: HttpRequest;
  readonly status: number; // 0: the request never reached the server
  readonly ok: boolean;
  /** Parsed JSON when the answer was JSON, else the text. */
  readonly body: unknown;
  /** A one-line reason when !ok, taken from an RFC 9457 problem body when there is one. */
  readonly error: string | null;
}

export interface HttpSource {
  select(category?: string): Stream<HttpResponse>;
}

const UNSAFE = new Set<Method>(['POST', 'PUT', 'DELETE']);

/** The error line for a failed answer: the problem's title and detail when the body is one. */
export function problemText(status: number, body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const problem = body as { title?: unknown; detail?: unknown; error?: { message?: unknown } };
    const parts = [problem.title, problem.detail].filter((p): p is string => typeof p === 'string');
    if (parts.length > 0) return parts.join(': ');
    if (typeof problem.error?.message === 'string') return problem.error.message;
  }
  if (typeof body === 'string' && body.trim() !== '') return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
  return status === 0 ? 'the server could not be reached' : `HTTP ${status}`;
}

/** The CSRF token an answer hands out, if any (login and /api/auth/me answers). */
export function csrfFrom(body: unknown): string | null {
  if (body !== null && typeof body === 'object' && 'csrf_token' in body) {
    const token = (body as { csrf_token: unknown }).csrf_token;
    return typeof token === 'string' ? token : null;
  }
  return null;
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export function makeHttpDriver(fetchImpl: Fetch = (url, init) => fetch(url, init)) {
  return function httpDriver(request$: Stream<HttpRequest>): HttpSource {
    let csrf: string | null = null;
    const response$ = xs.create<HttpResponse>();

    async function perform(request: HttpRequest): Promise<HttpResponse> {
      const method = request.method ?? 'GET';
      const headers: Record<string, string> = { Accept: 'application/json' };
      let body: BodyInit | undefined;
      if (request.form !== undefined) body = request.form;
      else if (request.body !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(request.body);
      }
      if (UNSAFE.has(method) && csrf !== null) headers['X-CSRF-Token'] = csrf;
      try {
        const answer = await fetchImpl(request.url, { method, headers, body, credentials: 'same-origin' });
        const type = answer.headers.get('content-type') ?? '';
        const text = await answer.text();
        let parsed: unknown = text;
        if (type.includes('json') && text !== '') {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        const token = csrfFrom(parsed);
        if (token !== null) csrf = token;
        if (answer.status === 401 || request.url === '/api/auth/logout') csrf = null;
        return {
          category: request.category,
          request,
          status: answer.status,
          ok: answer.ok,
          body: parsed,
          error: answer.ok ? null : problemText(answer.status, parsed),
        };
      } catch (error) {
        return { category: request.category, request, status: 0, ok: false, body: null, error: `the server could not be reached (${String(error)})` };
      }
    }

    request$.addListener({
      next: (request) => {
        void perform(request).then((response) => response$.shamefullySendNext(response));
      },
      error: () => undefined,
      complete: () => undefined,
    });

    return {
      select(category?: string): Stream<HttpResponse> {
        return category === undefined ? response$ : response$.filter((r) => r.category === category);
      },
    };
  };
}
