/**
 * A table whose rows are virtualised (TanStack Virtual): only the rows in view are in the
 * DOM, so 100,000 identities scroll as smoothly as 100. Pages are fetched with the API's
 * cursors as the end of the loaded rows comes into view.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

export interface Column<T> {
  id: string;
  header: string;
  width: string;
  cell: (row: T) => ReactNode;
}

export function VirtualTable<T>({
  label,
  rows,
  columns,
  rowKey,
  hasMore,
  loadingMore,
  onLoadMore,
  total,
  height = 560,
  rowHeight = 40,
}: {
  label: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
  total?: number;
  height?: number;
  rowHeight?: number;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const count = rows.length + (hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({ count, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];

  // The loader row (or a row near it) is in view: fetch the next page.
  useEffect(() => {
    if (last && hasMore && !loadingMore && last.index >= rows.length - 20) onLoadMore();
  }, [last, hasMore, loadingMore, rows.length, onLoadMore]);

  const template = columns.map((c) => c.width).join(' ');
  return (
    <div className="vtable">
      <div role="table" aria-label={label} aria-rowcount={total ?? (hasMore ? -1 : rows.length + 1)}>
      <div role="rowgroup" className="vtable-head">
        <div role="row" aria-rowindex={1} className="vtable-row" style={{ gridTemplateColumns: template }}>
          {columns.map((c) => (
            <div role="columnheader" key={c.id} className="vtable-cell">
              {c.header}
            </div>
          ))}
        </div>
      </div>
      <div ref={scroller} className="vtable-body" style={{ height }} tabIndex={0} role="rowgroup" aria-label={`${label}, scrollable`} data-testid="vtable-scroller">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rows[item.index];
            return (
              <div
                key={row ? rowKey(row) : 'loader'}
                role="row"
                aria-rowindex={item.index + 2}
                className="vtable-row"
                style={{ gridTemplateColumns: template, position: 'absolute', top: 0, left: 0, right: 0, height: item.size, transform: `translateY(${item.start}px)` }}
              >
                {row ? (
                  columns.map((c) => (
                    <div role="cell" key={c.id} className="vtable-cell">
                      {c.cell(row)}
                    </div>
                  ))
                ) : (
                  <div role="cell" className="vtable-cell vtable-loader">
                    Loading more…
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
      </div>
      <p className="vtable-foot" aria-live="polite">
        {rows.length.toLocaleString()} {hasMore ? 'loaded, more as you scroll' : rows.length === 1 ? 'row' : 'rows'}
      </p>
    </div>
  );
}
