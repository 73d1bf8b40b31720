/**
 * The pure part of DataTable: what a column is, how rows sort by one, and the grid tracks a
 * virtualized table lays its cells out on. No React state here, so it is unit-tested alone.
 */
import type { ReactNode } from 'react';

/** One column of a DataTable, described as data. */
export interface Column<T> {
  /** Names the column among its table's columns (React key, sort state). */
  id: string;
  /** Header content; none for a column of buttons. */
  header?: ReactNode;
  /** Header tooltip: what the figures mean. */
  headerTitle?: string;
  /** Class of the header cell. */
  headerClassName?: string;
  /** What a row shows in this column. */
  cell: (row: T) => ReactNode;
  /** Class of every cell of the column, or of each row's cell. */
  className?: string | ((row: T) => string | undefined);
  /** Tooltip of a row's cell. */
  title?: (row: T) => string | undefined;
  /** The value rows sort by when the header is clicked; a column without one does not sort. */
  sortKey?: (row: T) => string | number;
  /** CSS width: of the <col> in a table, of the grid track in a virtualized table (e.g. '64px', 'minmax(140px, 2.4fr)'). */
  width?: string;
}

/** Which column the rows are sorted by, and which way. */
export interface SortState {
  columnId: string;
  descending: boolean;
}

/** The class of `row`'s cell in `column`. */
export function cellClassOf<T>(column: Column<T>, row: T): string | undefined {
  return typeof column.className === 'function' ? column.className(row) : column.className;
}

/** `rows` sorted by the column `sort` names (stable; numbers by value, text in the user's collation); `rows` itself when unsorted. */
export function sortRows<T>(rows: readonly T[], columns: readonly Column<T>[], sort: SortState | undefined): readonly T[] {
  const key = sort && columns.find((c) => c.id === sort.columnId)?.sortKey;
  if (!sort || !key) return rows;
  const sign = sort.descending ? -1 : 1;
  const keyed = rows.map((row, index) => ({ row, index, value: key(row) }));
  keyed.sort((a, b) => sign * compareValues(a.value, b.value) || a.index - b.index);
  return keyed.map((k) => k.row);
}

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** The next sort after a click on `columnId`'s header: ascending first, then it flips. */
export function nextSort(current: SortState | undefined, columnId: string): SortState {
  return current?.columnId === columnId ? { columnId, descending: !current.descending } : { columnId, descending: false };
}

/** The grid-template-columns of a virtualized table: every column's width, 'auto' for a column that names none. */
export function gridTracks<T>(columns: readonly Column<T>[]): string {
  return columns.map((c) => c.width ?? 'auto').join(' ');
}

/** `{ route: 'cams' }` → `{ 'data-route': 'cams' }`: the attributes tests and styles find a row by. */
export function dataAttributes(data: Record<string, string | number> | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(data ?? {})) out[`data-${name}`] = value;
  return out;
}
