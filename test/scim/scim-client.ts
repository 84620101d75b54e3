/** A SCIM client over `inject()`: the requests an identity provider sends, in application/scim+json. */
import { SCHEMA_PATCH } from '../../src/domain/scim.ts';
import type { TestApp } from '../support/harness.ts';

export {
  SCHEMA_ENTERPRISE_USER as ENTERPRISE,
  SCHEMA_ERROR as ERROR,
  SCHEMA_GROUP as GROUP,
  SCHEMA_LIST as LIST,
  SCHEMA_PATCH as PATCH_OP,
  SCHEMA_SEARCH as SEARCH,
  SCHEMA_USER as USER,
} from '../../src/domain/scim.ts';

export interface ScimAnswer {
  status: number;
  headers: Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SCIM bodies are open JSON; each test reads the members it checks
  body: any;
}

export function scimClient(t: TestApp, authorization = t.auth.authorization) {
  const send = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<ScimAnswer> => {
    const res = await t.app.inject({
      method,
      url: `/scim/v2${url}`,
      headers: { authorization, accept: 'application/scim+json', ...(payload === undefined ? {} : { 'content-type': 'application/scim+json' }), ...headers },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    return { status: res.statusCode, headers: res.headers, body: res.body ? (JSON.parse(res.body) as unknown) : null };
  };
  return {
    send,
    get: (url: string, headers?: Record<string, string>) => send('GET', url, undefined, headers),
    post: (url: string, body: unknown, headers?: Record<string, string>) => send('POST', url, body, headers),
    put: (url: string, body: unknown, headers?: Record<string, string>) => send('PUT', url, body, headers),
    patch: (url: string, operations: unknown[], headers?: Record<string, string>) => send('PATCH', url, { schemas: [SCHEMA_PATCH], Operations: operations }, headers),
    delete: (url: string, headers?: Record<string, string>) => send('DELETE', url, undefined, headers),
    filter: (resource: 'Users' | 'Groups', filter: string, extra = '') => send('GET', `/${resource}?filter=${encodeURIComponent(filter)}${extra}`),
  };
}
