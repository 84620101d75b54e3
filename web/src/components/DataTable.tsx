/**
 * A plain table of rows (the lists that fit on a page; long lists use VirtualTable): one
 * column definition per column, an optional visually hidden header (action columns).
 */
import type { ReactNode } from 'react';

export interface TableColumn<T> {
  header: string;
  /** The header is read by screen readers only (e.g. "Actions"). */
  hiddenHeader?: boolean;
  className?: string;
  cell: (row: T) => ReactNode;
}

export function DataTable<T>({ rows, columns, rowKey, testId, caption }: { rows: readonly T[]; columns: readonly TableColumn<T>[]; rowKey: (row: T) => string; testId?: string; caption?: string }) {
  return (
    <table className="table" data-testid={testId}>
      {caption ? <caption className="sr-only">{caption}</caption> : null}
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c.header}>
              {c.hiddenHeader ? <span className="sr-only">{c.header}</span> : c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((c) => (
              <td key={c.header} className={c.className}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
