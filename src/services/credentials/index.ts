/**
 * Credentials: API keys, application keys, OAuth clients and tokens, signing keys, external tokens, authentication and its failures.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { createApiKey, deleteApiKey, listApiKeys } from './api-keys.ts';
export { authenticateApplicationKey, createApplicationKey, deleteApplicationKey, listApplicationKeys } from './application-keys.ts';
export { CredentialCache, DEFAULT_CREDENTIAL_CACHE_ENTRIES } from './credential-cache.ts';
export { createAuthFailureRecorder } from './auth-failures.ts';
export type { AuthFailureRecorder } from './auth-failures.ts';
export { API_KEY_PREFIX, CredentialRejected, authenticateApiKey } from './authentication.ts';
export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, SignInRefused, WRONG_CREDENTIALS, checkPasswordPolicy, removePassword, setPassword, verifyPasswordSignIn } from './passwords.ts';
export type { SignedInIdentity } from './passwords.ts';
export { COOKIE_SESSION_METHODS, SESSION_PREFIX, authenticateSession, csrfTokenMatches, csrfTokenOf, endSession, listSessions, noSession, openSession } from './sessions.ts';
export type { AuthenticatedSession, OpenedSession, SessionMethod, SessionView } from './sessions.ts';
export { EXTERNAL_ALGORITHMS, createExternalTokenVerifier } from './external-tokens.ts';
export type { ExternalTokenVerifier } from './external-tokens.ts';
export { createClient, deleteClient, listClients } from './oauth-clients.ts';
export { OAuthError, authenticateAccessToken, authenticateClient, clientActor, clientCredentialsOf, introspectToken, issueToken, revokeToken } from './oauth-tokens.ts';
export { SIGNING_ALG, createKeyRing, rotateSigningKey } from './signing-keys.ts';
export type { KeyRing } from './signing-keys.ts';
export { CX_PASSWORD_CLIENT, WRONG_API_KEY, passwordGrant, signIn } from './sign-in.ts';
export type { SignInInput } from './sign-in.ts';
export { OIDC_CALLBACK_PATH, OIDC_START_PATH, OidcSignInFailed, createConsoleOidc, safeReturnTo } from './console-oidc.ts';
export type { ConsoleOidc, OidcFailure } from './console-oidc.ts';
