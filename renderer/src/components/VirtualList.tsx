/**
 * A hand-written virtualized list: rows of one fixed height, and only the rows in view
 * (plus a few either side) exist in the DOM, so 10,000 or 100,000 rows scroll and update
 * like 50. Scroll positions are read once per animation frame. Row positions are set
 * through the style property (CSSOM), which the page's CSP allows; no inline style attributes.
 */
import { useCallback, useEffect, useRef, useState, type Key, type ReactNode, type UIEvent } from 'react';
import { useElementSize } from './useElementSize.js';

export interface VirtualListProps<T> {
  items: readonly T[];
  /** Height of every row, CSS px. */
  rowHeight: number;
  renderRow: (item: T, index: number) => ReactNode;
  getKey: (item: T) => Key;
  /** Rows rendered beyond each edge of the view. Default 8. */
  overscan?: number;
  className?: string;
  /** Accessible name of the list (when it is the table itself). */
  label?: string;
  /** 'table' (default) when the list is the whole table; 'rowgroup' when a DataTable holds it under its header row. */
  role?: 'table' | 'rowgroup';
  /** aria-rowindex of the first item: 1 by default, 2 under a header row. */
  firstRowIndex?: number;
}

export function VirtualList<T>({
  items,
  rowHeight,
  renderRow,
  getKey,
  overscan = 8,
  className,
  label,
  role = 'table',
  firstRowIndex = 1,
}: VirtualListProps<T>) {
  const [ref, size] = useElementSize<HTMLDivElement>();
  const [scrollTop, setScrollTop] = useState(0);
  const frame = useRef<number | undefined>(undefined);

  const onScroll = useCallback((event: UIEvent<HTMLDivElement>) => {
    const target = event.currentTarget;
    if (frame.current !== undefined) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = undefined;
      setScrollTop(target.scrollTop);
    });
  }, []);
  useEffect(() => () => cancelAnimationFrame(frame.current ?? 0), []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + size.height) / rowHeight) + overscan);
  const rows: ReactNode[] = [];
  for (let index = first; index < last; index += 1) {
    const item = items[index];
    rows.push(
      <div
        key={getKey(item)}
        className="vrow"
        role="row"
        aria-rowindex={index + firstRowIndex}
        style={{ transform: `translateY(${index * rowHeight}px)`, height: rowHeight }}
      >
        {renderRow(item, index)}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      className={`vlist ${className ?? ''}`}
      onScroll={onScroll}
      role={role}
      aria-label={label}
      aria-rowcount={role === 'table' ? items.length : undefined}
    >
      <div className="vlist-spacer" style={{ height: items.length * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}
