// Requests to rxgen's /api, as values for the HTTP driver. Categories name who asked.
import type { HttpRequest } from './drivers/http';
import type { Prompt } from './model/workflows';

export const me = (): HttpRequest => ({ category: 'me', url: '/api/auth/me' });
export const login = (name: string, password: string): HttpRequest => ({ category: 'login', url: '/api/auth/login', method: 'POST', body: { username: name, password } });
export const logout = (): HttpRequest => ({ category: 'logout', url: '/api/auth/logout', method: 'POST' });
export const nodes = (): HttpRequest => ({ category: 'nodes', url: '/api/nodes' });
export const models = (): HttpRequest => ({ category: 'models', url: '/api/models' });
export const jobs = (status?: string, limit = 100): HttpRequest => ({ category: 'jobs', url: `/api/jobs?limit=${limit}${status === undefined ? '' : `&status=${status}`}` });
export const job = (id: string): HttpRequest => ({ category: 'job', url: `/api/jobs/${encodeURIComponent(id)}` });
export const cancel = (id: string): HttpRequest => ({ category: 'cancel', url: `/api/jobs/${encodeURIComponent(id)}`, method: 'DELETE', tag: id });

/** Submit a prompt; `category` says which screen waits for the answer. */
export const submit = (category: string, prompt: Prompt, tag?: unknown): HttpRequest => ({ category, url: '/api/jobs', method: 'POST', body: { workflow: prompt, priority: 0 }, tag: { prompt, tag } });

export const upload = (category: string, file: Blob, filename: string): HttpRequest => {
  const form = new FormData();
  form.append('file', file, filename);
  return { category, url: '/api/uploads', method: 'POST', form };
};

export const artifacts = (kind: string, cursor: string | null, limit = 120): HttpRequest => ({
  category: 'artifacts',
  url: `/api/artifacts?kind=${kind}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
});
export const deleteArtifact = (sha256: string): HttpRequest => ({ category: 'artifact-delete', url: `/api/artifacts/${sha256}`, method: 'DELETE', tag: sha256 });
export const artifactWorkflow = (sha256: string, tag: unknown): HttpRequest => ({ category: 'artifact-workflow', url: `/api/artifacts/${sha256}/workflow`, tag });

export const users = (): HttpRequest => ({ category: 'users', url: '/api/users' });
export const tokens = (): HttpRequest => ({ category: 'tokens', url: '/api/tokens' });
export const createUser = (name: string, password: string, role: string): HttpRequest => ({ category: 'user-create', url: '/api/users', method: 'POST', body: { name, password, role } });
export const createToken = (name: string, scopes: readonly string[]): HttpRequest => ({ category: 'token-create', url: '/api/tokens', method: 'POST', body: { name, scopes } });
export const revokeToken = (id: string): HttpRequest => ({ category: 'token-revoke', url: `/api/tokens/${encodeURIComponent(id)}`, method: 'DELETE', tag: id });
