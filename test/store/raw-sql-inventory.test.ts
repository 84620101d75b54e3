/**
 * Raw SQL is the one way past the tenant scope (src/store/tenant-scope.ts rewrites only
 * queries built with Kysely). Outside the store, every whole statement written as text is
 * listed here and applies the tenant itself; a new one fails this test until it is looked at
 * and added. Fragments inside a built query (`sql` in a select list, an order or a condition)
 * are not statements: the built query around them is scoped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SCANNED = ['src/services', 'src/engine', 'src/api', 'src/jobs', 'src/cli', 'src/demo'];

/** Ways to run a statement given as text. */
const RAW_STATEMENT = [/\bsqlite\.run\(/g, /CompiledQuery\.raw\(/g, /\bsql(?:<[^>]*>)?`[^`]*`\s*\.execute\(/g, /\bsql\.raw\(/g, /\.executeQuery\(/g];

/** File → how many raw statements it holds, and why each applies the tenant. */
const REVIEWED: Record<string, number> = {
  // Bulk inserts: bulkInsert refuses columns without tenant_id, a row of another tenant, and a
  // conflict target without tenant_id (tested in tenant-scope.test.ts). Prepared (SQLite, twice)
  // and plain (PostgreSQL, through executeQuery).
  'src/services/imports/bulk.ts': 4,
  // The import's account updates and deletes on SQLite: `where tenant_id = ? and id = ?` and
  // `where id = ? and tenant_id = ?` with tx.tenantId (checked below).
  'src/services/imports/write-changes.ts': 2,
  // SCIM filters: sql.raw only for operator tokens from fixed lists (and/or, comparisons) inside
  // where-clauses of scoped builder queries, whose tables the tenant scope filters.
  'src/services/scim/filter.ts': 4,
};

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('raw SQL outside the store', () => {
  it('is only where it was reviewed for the tenant', () => {
    const found: Record<string, number> = {};
    for (const file of SCANNED.flatMap(files)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const n = RAW_STATEMENT.reduce((sum, re) => sum + (text.match(re)?.length ?? 0), 0);
      if (n > 0) found[relative(ROOT, join(ROOT, file))] = n;
    }
    expect(found).toEqual(REVIEWED);
  });

  it("the import's raw updates and deletes filter on the write's tenant", () => {
    const text = readFileSync(join(ROOT, 'src/services/imports/write-changes.ts'), 'utf8');
    const runs = [...text.matchAll(/sqlite\.run\((['`])(.*?)\1,\s*\[([^\]]*)\]/g)];
    expect(runs).toHaveLength(2);
    for (const [, , statement, params] of runs) {
      expect(statement).toMatch(/\btenant_id = \?/);
      expect(params).toContain('tx.tenantId');
    }
  });
});
