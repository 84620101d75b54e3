/**
 * The console's API client: openapi-fetch typed by the generated schema.d.ts (from
 * openapi.json). Same origin, the session cookie rides along; every unsafe request carries
 * the session's CSRF token. No secret is ever stored in the browser: the token lives in
 * memory and is fetched again from GET /api/v1/sessions/current after a reload.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export type { paths, components } from './schema';
export type Schemas = import('./schema').components['schemas'];

/** One field the API found at fault (problem+json `errors`). */
export interface FieldProblem {
  field: string;
  message: string;
}

/** An RFC 9457 problem answered by the API. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId?: string;
  errors?: FieldProblem[];
  requiredRights?: string[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }
}

let csrfToken: string | null = null;
/** Set by the session on sign-in and on reload; cleared on sign-out. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Adds X-CSRF-Token to every unsafe request (the API refuses a cookie write without it). */
export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (UNSAFE.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

/** Listeners told when the API answers 401 (the session expired or was signed out elsewhere). */
const unauthenticatedListeners = new Set<() => void>();
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}
const sessionWatch: Middleware = {
  onResponse({ response, request }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith('/api/v1/sessions')) {
      for (const listener of unauthenticatedListeners) listener();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(csrfMiddleware, sessionWatch);

function asProblem(error: unknown, response: Response): Problem {
  if (error && typeof error === 'object' && 'status' in error && 'title' in error) return error as Problem;
  return { title: response.statusText || 'Request failed', status: response.status, detail: `The server answered ${response.status}`, code: 'internal_error' };
}

/**
 * The data of an openapi-fetch result, or an ApiError with the API's problem.
 *
 * ```ts
 * const me = await unwrap(api.GET('/api/v1/me'));
 * ```
 */
export async function unwrap<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await result;
  if (!response.ok) throw new ApiError(asProblem(error, response));
  return data as T;
}

/** Downloads a response body as a file (exports): the browser saves it under `fallbackName`. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) {
    let problem: Problem;
    try {
      problem = (await response.json()) as Problem;
    } catch {
      problem = asProblem(null, response);
    }
    throw new ApiError(problem);
  }
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
