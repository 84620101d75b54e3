/**
 * A small program against the client types that openapi-typescript generates from
 * openapi.json (`npm run api-client:compile` generates them into generated/ and compiles
 * this file with tsc, without running it). It reads and writes through the generated
 * operation types and handles the documented problem+json errors, so a change to the
 * document that breaks generated clients fails the build.
 */
import type { components, operations, paths } from './generated/grantory.ts';

type Problem = components['schemas']['Problem'];

/** The JSON body of a response of an operation, by status. */
type Body<Op, Status extends number> = Op extends { responses: Record<Status, { content: infer C }> }
  ? C extends { 'application/json': infer J } ? J : C extends { 'application/problem+json': infer P } ? P : never
  : never;

type CheckRequest = operations['postCheck']['requestBody'] extends { content: { 'application/json': infer B } } | undefined ? B : never;
type CheckAnswer = Body<operations['postCheck'], 200>;
type CheckNotFound = Body<operations['postCheck'], 404>;
type Identity = Body<operations['getIdentitiesById'], 200>;
type IdentityPage = Body<operations['getIdentities'], 200>;
type NewIdentity = NonNullable<paths['/api/v1/identities']['post']['requestBody']>['content']['application/json'];

export class GrantoryError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
  }
}

export class GrantoryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new GrantoryError((await res.json()) as Problem);
    return (await res.json()) as T;
  }

  check(request: CheckRequest): Promise<CheckAnswer> {
    return this.call('POST', '/api/v1/check', request);
  }

  identity(id: string): Promise<Identity> {
    return this.call('GET', `/api/v1/identities/${encodeURIComponent(id)}`);
  }

  identities(cursor?: string): Promise<IdentityPage> {
    return this.call('GET', `/api/v1/identities${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
  }

  createIdentity(input: NewIdentity): Promise<Identity> {
    return this.call('POST', '/api/v1/identities', input);
  }
}

/** Every identity's username, page by page; a check whose names are unknown says which. */
export async function example(client: GrantoryClient): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.identities(cursor);
    for (const identity of page.items) names.push(identity.username ?? identity.subject);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const created = await client.createIdentity({ username: 'ada.lovelace', email: 'ada@example.com' });
  try {
    const answer = await client.check({ identity: created.id, application: 'Payroll', permission: 'payroll.approve' });
    if (answer.allowed) names.push(`${created.id} may approve payroll at revision ${answer.revision}`);
  } catch (e) {
    if (!(e instanceof GrantoryError) || e.problem.status !== 404) throw e;
    const notFound: CheckNotFound = e.problem;
    names.push(`unknown: ${notFound.detail}`);
  }
  return names;
}
