/**
 * What an update of a row sets: only the columns whose value changes. SQLite rewrites the
 * entry of every index on a column an update sets, and checks the foreign keys of such a
 * column, whether or not its value changed — an offboarding that set every column of the
 * identity would rewrite its username, employee-number, email and unit index entries and look
 * its manager and unit up again, to change its status.
 *
 * ```ts
 * await tx.db.updateTable('identities').set(changedColumns(row, next)).where('id', '=', row.id).execute();
 * ```
 */
export function changedColumns<R extends object>(row: R, next: R): Partial<R> {
  const out: Partial<R> = {};
  for (const column of Object.keys(next) as (keyof R)[]) if (next[column] !== row[column]) out[column] = next[column];
  return out;
}
