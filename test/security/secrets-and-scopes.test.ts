import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { narrowRights, rightsOfScopes, SUPPORTED_SCOPES } from '../../src/domain/scopes.ts';
import { RIGHTS } from '../../src/domain/rights.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { resolveSecretKey } from '../../src/secret-key.ts';

describe('scopes', () => {
  it('map vendor scopes onto rights and only ever narrow', () => {
    const all = new Set(RIGHTS);
    expect([...rightsOfScopes(['authorization.permissions'])].sort()).toEqual(['read-permissions-any-application', 'read-permissions-my-application']);
    expect([...rightsOfScopes(['cos_auth_api'])].sort()).toEqual(['read-permissions-any-application', 'read-permissions-my-application']);
    expect([...rightsOfScopes(['audit.log'])]).toEqual(['read-audit']);
    expect([...rightsOfScopes(['access_control_api'])].sort()).toEqual(['manage-clients', 'manage-roles', 'manage-system-settings', 'manage-users']);
    expect([...rightsOfScopes(['email'])]).toEqual([]);
    expect(narrowRights(new Set(['read-audit']), ['grantory:*'])).toEqual(new Set(['read-audit']));
    expect(narrowRights(all, null)).toEqual(all);
    expect(narrowRights(all, ['grantory:no-such-right'])).toEqual(new Set());
    expect(SUPPORTED_SCOPES).toEqual(expect.arrayContaining(['authorization.permissions:read', 'audit.log:read', 'grantory:manage-users']));
  });
});

describe('server secrets', () => {
  it('hash with a key and encrypt with authentication', () => {
    const a = createServerSecrets('a'.repeat(32));
    const b = createServerSecrets('b'.repeat(32));
    expect(a.hashCredential('x')).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hashCredential('x')).not.toBe(b.hashCredential('x'));
    const sealed = a.encrypt('{"d":"secret"}');
    expect(sealed).not.toContain('secret');
    expect(a.decrypt(sealed)).toBe('{"d":"secret"}');
    expect(() => b.decrypt(sealed)).toThrow();
    const [v, iv, data, tag] = sealed.split('.');
    expect(() => a.decrypt([v, iv, `${data}A`, tag].join('.'))).toThrow();
  });

  it('are generated once into the data directory for SQLite, and required for PostgreSQL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grantory-secret-'));
    try {
      const config = loadConfig({ GRANTORY_DATA_DIR: dir });
      const first = resolveSecretKey(config);
      expect(first.generatedFile).toBe(join(dir, 'secret.key'));
      expect((statSync(join(dir, 'secret.key')).mode & 0o777).toString(8)).toBe('600');
      const second = resolveSecretKey(config);
      expect(second).toEqual({ secretKey: first.secretKey, generatedFile: null });
      expect(readFileSync(join(dir, 'secret.key'), 'utf8').trim()).toBe(first.secretKey);
      expect(resolveSecretKey(loadConfig({ GRANTORY_DATA_DIR: dir, GRANTORY_SECRET_KEY: 'z'.repeat(40) })).secretKey).toBe('z'.repeat(40));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => resolveSecretKey(loadConfig({ DATABASE_URL: 'postgres://db/x' }))).toThrow(ConfigError);
    expect(() => loadConfig({ GRANTORY_SECRET_KEY: 'short' })).toThrow(/GRANTORY_SECRET_KEY/);
  });

  it('validate the external issuer and rate limit settings', () => {
    expect(() => loadConfig({ GRANTORY_OIDC_ISSUER: 'https://idp' })).toThrow(/GRANTORY_OIDC_AUDIENCE/);
    expect(() => loadConfig({ GRANTORY_OIDC_ISSUER: 'https://idp', GRANTORY_OIDC_AUDIENCE: 'g' })).toThrow(/JWKS/);
    expect(loadConfig({ GRANTORY_OIDC_ISSUER: 'https://idp', GRANTORY_OIDC_AUDIENCE: 'g', GRANTORY_OIDC_JWKS_URL: 'https://idp/jwks' }).externalIssuer).toMatchObject({ tenant: 'default', subjectClaim: 'sub' });
    expect(loadConfig({ GRANTORY_RATE_LIMIT: '0' }).rateLimits.perCredential).toBe(0);
    expect(() => loadConfig({ GRANTORY_RATE_LIMIT_WINDOW: '0' })).toThrow(/GRANTORY_RATE_LIMIT_WINDOW/);
  });
});
