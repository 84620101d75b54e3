/** `GET /me`: who the caller is and what it may do. */
import { Type, type Static } from '@sinclair/typebox';
import type { Caller } from '../../services/kernel/index.ts';
import type { App } from '../deps.ts';
import { actorOf } from '../request-context.ts';
import { AUTHENTICATED } from '../route-auth.ts';

export const Me = Type.Object({
  tenantId: Type.String(),
  kind: Type.String({ description: 'api_key, client, app_key, identity (an external OIDC token), session (a signed-in session)' }),
  credentialId: Type.String(),
  name: Type.String(),
  identityId: Type.Union([Type.String(), Type.Null()]),
  authorityId: Type.Union([Type.String(), Type.Null()], {
    description: "The identity on whose authority the credential was made: its current rights cap the caller's (null: no cap beyond the identity's own)",
  }),
  applicationId: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
  rights: Type.Array(Type.String(), { description: "The caller's effective Grantory rights" }),
  signedIn: Type.Union(
    [
      Type.Object({
        name: Type.String({ description: "The identity's display name (or subject) for a password or single sign-on; the API key's name for a key" }),
        method: Type.Union([Type.Literal('api_key'), Type.Literal('password'), Type.Literal('oidc')]),
      }),
      Type.Null(),
    ],
    { description: 'A console session: who signed in and how (`name` above is the actor name the audit trail records); null for other credentials' },
  ),
});

export function registerMeRoutes(app: App): void {
  app.get(
    '/me',
    {
      config: AUTHENTICATED,
      schema: { tags: ['Credentials'], summary: 'The caller: credential, identity, scopes and effective rights', response: { 200: Me } },
    },
    async (request) => meOf(actorOf(request).caller),
  );
}

/** The body of `GET /me` for a caller (also part of the session answers). */
export function meOf(caller: Caller): Static<typeof Me> {
  return {
    tenantId: caller.tenantId,
    kind: caller.kind,
    credentialId: caller.id,
    name: caller.name,
    identityId: caller.identityId,
    authorityId: caller.authorityId,
    applicationId: caller.applicationId,
    scopes: caller.scopes ? [...caller.scopes] : null,
    rights: [...caller.rights].sort(),
    signedIn: caller.signedIn ?? null,
  };
}
