/**
 * A small real OpenID Connect provider for tests (an HTTP server on 127.0.0.1): discovery
 * document, JWKS, an authorize endpoint that "signs in" `nextSubject` at once and redirects
 * back with a code, and a token endpoint that checks the client, the redirect URI and the
 * PKCE verifier and signs an ID token with jose. Used by the API's OIDC sign-in tests and by
 * the console's browser test of the sign-in button.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export const CLIENT_ID = 'grantory-console';
export const CLIENT_SECRET = 'console-client-secret';

interface Pending {
  challenge: string;
  nonce: string;
  redirectUri: string;
  subject: string;
}

/** A minimal OIDC provider; `nextSubject` is who "signs in" at its authorize endpoint. */
export class Provider {
  server!: Server;
  issuer = '';
  nextSubject = '';
  /** When set, the authorize endpoint sends the browser back with this error (e.g. access_denied) instead of a code. */
  nextError: string | null = null;
  /** When set, the authorize endpoint sends back this state instead of the one it was given. */
  forcedState: string | null = null;
  /** When set, the ID token carries this nonce instead of the one asked for. */
  forcedNonce: string | null = null;
  tokenRequests: URLSearchParams[] = [];
  private readonly codes = new Map<string, Pending>();
  private key!: CryptoKey;
  private jwk: Record<string, unknown> = {};

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    this.key = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
    this.server = createServer((req, res) => void this.handle(req.url ?? '/', req.method ?? 'GET', req.headers.authorization, req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
  }

  private async handle(url: string, method: string, authorization: string | undefined, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const u = new URL(url, this.issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(200, { issuer: this.issuer, authorization_endpoint: `${this.issuer}/authorize`, token_endpoint: `${this.issuer}/token`, jwks_uri: `${this.issuer}/jwks` });
    }
    if (u.pathname === '/jwks') return json(200, { keys: [this.jwk] });
    if (u.pathname === '/authorize') {
      const p = u.searchParams;
      if (p.get('client_id') !== CLIENT_ID || p.get('response_type') !== 'code' || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || !p.get('nonce') || !p.get('state')) {
        return json(400, { error: 'invalid_request' });
      }
      const back = new URL(p.get('redirect_uri')!);
      if (this.nextError) {
        back.searchParams.set('error', this.nextError);
      } else {
        const code = randomBytes(16).toString('hex');
        this.codes.set(code, { challenge: p.get('code_challenge')!, nonce: p.get('nonce')!, redirectUri: p.get('redirect_uri')!, subject: this.nextSubject });
        back.searchParams.set('code', code);
      }
      back.searchParams.set('state', this.forcedState ?? p.get('state')!);
      res.writeHead(302, { location: back.toString() });
      return void res.end();
    }
    if (u.pathname === '/token' && method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      this.tokenRequests.push(form);
      if (authorization !== `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`) return json(401, { error: 'invalid_client' });
      const pending = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      if (!pending || form.get('grant_type') !== 'authorization_code' || form.get('redirect_uri') !== pending.redirectUri) return json(400, { error: 'invalid_grant' });
      const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
      if (challenge !== pending.challenge) return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      const idToken = await new SignJWT({ nonce: this.forcedNonce ?? pending.nonce })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setIssuer(this.issuer)
        .setAudience(CLIENT_ID)
        .setSubject(pending.subject)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(this.key);
      return json(200, { access_token: 'opaque', token_type: 'Bearer', id_token: idToken, expires_in: 300 });
    }
    json(404, { error: 'not_found' });
  }
}

