/**
 * Migration 0010 on a database written before it, on each backend: every username gets its
 * confusables skeleton, and usernames that already look alike are all kept (the service
 * refuses only new look-alikes: test/security/identifiers.test.ts).
 */
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { identifierSkeleton } from '../../src/domain/identifiers.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { CONTRACT_BACKENDS, createThrowawayDatabase, type Backend } from '../support/harness.ts';

const BEFORE = Object.keys(MIGRATIONS)
  .sort()
  .filter((name) => name < '0010');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openDb(backend: Backend): Promise<Kysely<unknown>> {
  if (backend === 'sqlite') {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    cleanups.push(() => db.destroy());
    return db;
  }
  const database = await createThrowawayDatabase();
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }) });
  cleanups.push(() => database.drop());
  cleanups.push(() => db.destroy());
  return db;
}

describe.each(CONTRACT_BACKENDS)('migration 0010 on %s', (backend) => {
  it('fills the skeleton of every username and keeps usernames that already look alike', async () => {
    const db = await openDb(backend);
    const before = Object.fromEntries(BEFORE.map((name) => [name, MIGRATIONS[name]!]));
    const early = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
    expect(early.error).toBeUndefined();
    const now = new Date().toISOString();
    await sql`insert into tenants (id, name, audit_head_hash, created_at) values ('t1', 't1', '', ${now})`.execute(db);
    const names: [string, string | null][] = [
      ['i1', 'admin'],
      ['i2', '\u0430dmin'],
      ['i3', 'ADMIN'],
      ['i4', 'zoe'],
      ['i5', null],
    ];
    for (const [i, [id, username]] of names.entries()) {
      await sql`insert into identities (id, tenant_id, number, subject, username, type, status, attributes, created_at, updated_at)
        values (${id}, 't1', ${i + 1}, ${`s${i}`}, ${username}, 'employee', 'active', '{}', ${now}, ${now})`.execute(db);
    }

    const rest = await new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } }).migrateToLatest();
    expect(rest.error).toBeUndefined();
    expect(rest.results?.map((r) => r.migrationName)).toContain('0010-identifier-skeletons');
    const { rows } = await sql<{ id: string; username: string | null; username_skeleton: string | null }>`select id, username, username_skeleton from identities order by id`.execute(db);
    expect(rows).toEqual(names.map(([id, username]) => ({ id, username, username_skeleton: username === null ? null : identifierSkeleton(username) })));
    expect(new Set(rows.slice(0, 3).map((r) => r.username_skeleton)).size).toBe(1);
  });
});
