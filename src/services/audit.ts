/**
 * Reading and verifying the audit trail. Verification streams each tenant's events in
 * sequence order (constant memory), re-computes every hash, checks every link, and finally
 * compares the last event with the head recorded on the tenant, so an edited, deleted,
 * reordered or truncated event is reported with the first broken link.
 */
import { ChainVerifier, type ChainProblem } from '../domain/audit-chain.ts';
import { fromAuditRow, type Store } from '../store/store.ts';

export interface TenantVerification {
  tenant: string;
  events: number;
  headHash: string;
  problem: ChainProblem | null;
}

const PAGE = 1000;

export async function verifyAuditTrail(store: Store): Promise<TenantVerification[]> {
  const results: TenantVerification[] = [];
  for (const tenant of await store.listTenants()) {
    const { db, tenantId } = store.read(tenant.id);
    const verifier = new ChainVerifier();
    let problem: ChainProblem | null = null;
    let after = 0;
    for (;;) {
      const rows = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(PAGE)
        .execute();
      for (const row of rows) {
        problem = verifier.push(fromAuditRow(row));
        if (problem) break;
      }
      if (problem || rows.length < PAGE) break;
      after = Number(rows[rows.length - 1]!.seq);
    }
    if (!problem) {
      const head = await db
        .selectFrom('tenants')
        .select(['audit_seq', 'audit_head_hash'])
        .where('id', '=', tenantId)
        .executeTakeFirstOrThrow();
      if (Number(head.audit_seq) !== verifier.lastSeq || head.audit_head_hash !== verifier.headHash) {
        problem = {
          kind: 'gap',
          seq: verifier.lastSeq + 1,
          message: `the trail ends at event #${verifier.lastSeq} but the tenant's head is event #${head.audit_seq} (newest events were deleted)`,
        };
      }
    }
    results.push({ tenant: tenant.name, events: verifier.count, headHash: verifier.headHash, problem });
  }
  return results;
}
