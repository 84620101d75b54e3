/** Reading and saving a personnel event's row inside the services of this folder. */
import { canonicalJson } from '../../domain/canonical-json.ts';
import { changedColumns } from '../../store/changed-columns.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { toEventView, type EventRow, type Stage } from './model.ts';

export async function eventRow(scope: TenantDb, id: string): Promise<EventRow | undefined> {
  return scope.db.selectFrom('personnel_events').selectAll().where('tenant_id', '=', scope.tenantId).where('id', '=', id).executeTakeFirst();
}

/** Stores the event's new status and stages (with the audit event and change). */
export async function saveEvent(tx: WriteTx, row: EventRow, patch: Partial<Pick<EventRow, 'status' | 'identity_id' | 'identity_name' | 'completed_at' | 'end_at'>> & { stages?: Stage[] }): Promise<EventRow> {
  const { stages, ...columns } = patch;
  const next: EventRow = { ...row, ...columns, stages: stages ? canonicalJson(stages) : row.stages, updated_at: tx.now, version: Number(row.version) + 1 };
  await tx.db
    .updateTable('personnel_events')
    .set(changedColumns(row, next))
    .where('tenant_id', '=', tx.tenantId)
    .where('id', '=', row.id)
    .execute();
  tx.audit({ action: 'personnelEvent.update', targetType: 'personnelEvent', targetId: row.id, before: toEventView(row), after: toEventView(next) });
  tx.change('personnelEvent', row.id, 'update');
  return next;
}
