/**
 * The client commands' HTTP calls: the credential on every request (an API key, or a token got
 * once per run from POST /oauth/token for an OAuth client), and API errors turned into one
 * readable line plus the problem's field errors, with the exit code for its status.
 */
import { CliFailure, EXIT, exitCodeOf } from './exit-codes.ts';
import type { Connection } from './profiles.ts';

export interface RequestOptions {
  method: string;
  /** Path with its parameters filled in, e.g. /api/v1/identities/abc. */
  path: string;
  query?: Record<string, string | string[]>;
  body?: unknown;
  /** A body sent as it is (multipart uploads). */
  rawBody?: BodyInit;
  /** Called with the bytes of rawBody sent so far (a form is then streamed, counted as it goes). */
  onSent?: (bytes: number) => void;
  accept?: string;
  headers?: Record<string, string>;
}

interface ProblemLike {
  title?: string;
  detail?: string;
  code?: string;
  status?: number;
  requestId?: string;
  errors?: { field?: string; message?: string }[];
}

const USER_AGENT = 'grantory-cli';

/** A 429 or 503 with Retry-After is tried again after the wait (at most this often, each wait at most a minute). */
const MAX_RETRIES = 5;
const MAX_WAIT_SECONDS = 60;

function retryAfterSeconds(response: Response): number | undefined {
  if (response.status !== 429 && response.status !== 503) return undefined;
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(Math.ceil(seconds), 0), MAX_WAIT_SECONDS);
}

/** One line for a problem detail, then its field errors. */
export function problemFailure(status: number, text: string, contentType: string): CliFailure {
  let problem: ProblemLike | undefined;
  if (/json/.test(contentType)) {
    try {
      problem = JSON.parse(text) as ProblemLike;
    } catch {
      problem = undefined;
    }
  }
  if (!problem || typeof problem !== 'object') {
    const snippet = text.trim().split('\n')[0]?.slice(0, 200);
    return new CliFailure(`the server answered ${status}${snippet ? `: ${snippet}` : ''}`, exitCodeOf(status));
  }
  const what = problem.detail && problem.detail !== problem.title ? `${problem.title ? `${problem.title}: ` : ''}${problem.detail}` : (problem.title ?? `HTTP ${status}`);
  const details = (problem.errors ?? []).map((e) => `${e.field ?? '(body)'}: ${e.message ?? 'is not valid'}`);
  if (problem.requestId) details.push(`request id: ${problem.requestId}`);
  return new CliFailure(`${what} (${status}${problem.code ? ` ${problem.code}` : ''})`, exitCodeOf(status), details);
}

/**
 * The body as a stream that reports the bytes read from it as fetch sends them (its headers
 * carry the multipart boundary the encoding chose). Sent chunked, with no content length.
 */
function countedBody(body: BodyInit, headers: Record<string, string>, onSent: (bytes: number) => void): RequestInit {
  const encoded = new Response(body);
  let sent = 0;
  const counting = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      sent += chunk.byteLength;
      onSent(sent);
      controller.enqueue(chunk);
    },
  });
  const contentType = encoded.headers.get('content-type');
  // `duplex: 'half'` is what fetch needs to send a stream (not yet in the DOM RequestInit type).
  return { headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) }, body: encoded.body?.pipeThrough(counting), duplex: 'half' } as RequestInit;
}

export class ApiClient {
  private token: string | undefined;

  constructor(
    readonly connection: Connection,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private async authorization(): Promise<string> {
    const credential = this.connection.credential;
    if ('apiKey' in credential) return `Bearer ${credential.apiKey}`;
    if (!this.token) {
      const response = await this.send(`${this.connection.url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(credential.clientId)}:${encodeURIComponent(credential.clientSecret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': USER_AGENT,
        },
        body: 'grant_type=client_credentials',
      });
      const text = await response.text();
      if (!response.ok) {
        const failure = problemFailure(response.status, text, response.headers.get('content-type') ?? '');
        throw new CliFailure(`cannot get a token for client ${credential.clientId}: ${failure.message}`, failure.exitCode, failure.details);
      }
      this.token = (JSON.parse(text) as { access_token: string }).access_token;
    }
    return `Bearer ${this.token}`;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, init);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliFailure(`cannot reach ${this.connection.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, EXIT.server, [`the server comes from ${this.connection.source}`]);
    }
  }

  url(path: string, query: Record<string, string | string[]> = {}): string {
    const url = new URL(`${this.connection.url}${path}`);
    for (const [name, value] of Object.entries(query)) for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
    return url.toString();
  }

  /** Sends the request; an answer that is not 2xx throws a CliFailure. */
  async request(options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { authorization: await this.authorization(), accept: options.accept ?? 'application/json', 'user-agent': USER_AGENT, ...options.headers };
    let body: BodyInit | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const url = this.url(options.path, options.query);
    for (let attempt = 1; ; attempt += 1) {
      // A counted body is a stream, read once: each attempt makes its own.
      const init: RequestInit = options.onSent && body !== undefined ? countedBody(body, headers, options.onSent) : { headers, body };
      const response = await this.send(url, { method: options.method, ...init });
      if (response.ok) return response;
      const text = await response.text();
      const wait = retryAfterSeconds(response);
      if (wait === undefined || attempt > MAX_RETRIES) throw problemFailure(response.status, text, response.headers.get('content-type') ?? '');
      if (process.stderr.isTTY) process.stderr.write(`grantory: the server answered ${response.status}; retrying in ${wait} s\n`);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }

  /** The JSON answer (undefined for 204). */
  async json<T = unknown>(options: RequestOptions): Promise<T> {
    const response = await this.request(options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliFailure(`the server's answer to ${options.method} ${options.path} is not JSON`, EXIT.server);
    }
  }
}
