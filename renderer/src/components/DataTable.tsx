/**
 * One table for every list the UI shows (nodes, routes, streams, viewers, the request log):
 * the columns are data (table-columns.ts), the table draws them. A column with a sort key
 * gets a header button that sorts the rows. A row may open a detail row under it. With
 * `virtual`, only the rows in view exist (VirtualList), laid out on a CSS grid whose tracks
 * are the columns' widths; the grid is set through a custom property on the element's style
 * (CSSOM, which the page's CSP allows), never through a style attribute.
 */
import { Fragment, useMemo, useState, type CSSProperties, type Key, type ReactNode } from 'react';
import { cellClassOf, dataAttributes, gridTracks, nextSort, sortRows, type Column, type SortState } from './table-columns.js';
import { VirtualList } from './VirtualList.js';

export type { Column } from './table-columns.js';

/** Only the rows in view exist: for lists of thousands of rows (the request log). */
export interface VirtualRows {
  /** Height of every row, CSS px. */
  rowHeight: number;
  /** Class of the header row and of each row (they carry the grid and its look). */
  headClassName: string;
  rowClassName: string;
  /** Class of the scrolling list. */
  listClassName?: string;
}

export interface DataTableProps<T> {
  /** Accessible name of the table. */
  label: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => Key;
  /** data-* attributes of a row ({ route: 'cams' } gives data-route="cams"). */
  rowData?: (row: T) => Record<string, string | number>;
  /** Class of a row (besides the virtual row class). */
  rowClassName?: (row: T) => string | undefined;
  onRowClick?: (row: T) => void;
  /** Shown instead of the table when there is no row; without it the empty table shows. */
  empty?: ReactNode;
  /** Class of the <table> (or of the virtual table). */
  className?: string;
  /** Put the table in a box that scrolls sideways (.table-wrap). Default true; not used with `virtual`. */
  wrap?: boolean;
  /** The content of a row under `row`, across every column; undefined: none. */
  detail?: (row: T) => ReactNode;
  virtual?: VirtualRows;
}

export function DataTable<T>(props: DataTableProps<T>) {
  const { columns, rows, empty } = props;
  const [sort, setSort] = useState<SortState>();
  const sorted = useMemo(() => sortRows(rows, columns, sort), [rows, columns, sort]);
  if (rows.length === 0 && empty !== undefined) return <p className="empty">{empty}</p>;
  const header = (column: Column<T>) => <HeaderContent column={column} sort={sort} onSort={() => setSort(nextSort(sort, column.id))} />;
  return props.virtual ? (
    <VirtualTable {...props} virtual={props.virtual} rows={sorted} header={header} sort={sort} />
  ) : (
    <PlainTable {...props} rows={sorted} header={header} sort={sort} />
  );
}

/** The header's text, as a sort button when the column sorts. */
function HeaderContent<T>({ column, sort, onSort }: { column: Column<T>; sort: SortState | undefined; onSort: () => void }) {
  if (!column.sortKey) return column.header;
  const mark = sort?.columnId === column.id ? (sort.descending ? ' ↓' : ' ↑') : '';
  return (
    <button type="button" className="ghost sort" onClick={onSort}>
      {column.header}
      {mark}
    </button>
  );
}

function ariaSort<T>(column: Column<T>, sort: SortState | undefined): 'ascending' | 'descending' | 'none' | undefined {
  if (!column.sortKey) return undefined;
  if (sort?.columnId !== column.id) return 'none';
  return sort.descending ? 'descending' : 'ascending';
}

type Drawn<T> = DataTableProps<T> & { header: (column: Column<T>) => ReactNode; sort: SortState | undefined };

function PlainTable<T>({ label, columns, rows, rowKey, rowData, rowClassName, onRowClick, className, wrap = true, detail, header, sort }: Drawn<T>) {
  const widths = columns.some((c) => c.width !== undefined);
  const table = (
    <table aria-label={label} className={className}>
      {widths && (
        <colgroup>
          {columns.map((c) => (
            <col key={c.id} style={c.width ? { width: c.width } : undefined} />
          ))}
        </colgroup>
      )}
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.id} title={c.headerTitle} className={c.headerClassName} aria-sort={ariaSort(c, sort)}>
              {header(c)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const below = detail?.(row);
          return (
            <Fragment key={rowKey(row)}>
              <tr className={rowClassName?.(row)} onClick={onRowClick && (() => onRowClick(row))} {...dataAttributes(rowData?.(row))}>
                {columns.map((c) => (
                  <td key={c.id} className={cellClassOf(c, row)} title={c.title?.(row)}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
              {below !== undefined && (
                <tr className="detail">
                  <td colSpan={columns.length}>{below}</td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
  return wrap ? <div className="table-wrap">{table}</div> : table;
}

function VirtualTable<T>({
  label,
  columns,
  rows,
  rowKey,
  rowData,
  rowClassName,
  onRowClick,
  className,
  virtual,
  header,
  sort,
}: Drawn<T> & { virtual: VirtualRows }) {
  const tracks = useMemo(() => ({ '--columns': gridTracks(columns) }) as CSSProperties, [columns]);
  return (
    <div className={`vtable ${className ?? ''}`} role="table" aria-label={label} aria-rowcount={rows.length + 1} style={tracks}>
      <div className={virtual.headClassName} role="row" aria-rowindex={1}>
        {columns.map((c) => (
          <span key={c.id} role="columnheader" title={c.headerTitle} className={c.headerClassName} aria-sort={ariaSort(c, sort)}>
            {header(c)}
          </span>
        ))}
      </div>
      <VirtualList
        items={rows}
        rowHeight={virtual.rowHeight}
        getKey={rowKey}
        role="rowgroup"
        firstRowIndex={2}
        className={virtual.listClassName}
        renderRow={(row) => (
          <div
            className={`${virtual.rowClassName} ${rowClassName?.(row) ?? ''}`}
            onClick={onRowClick && (() => onRowClick(row))}
            {...dataAttributes(rowData?.(row))}
          >
            {columns.map((c) => (
              <span key={c.id} role="cell" className={cellClassOf(c, row)} title={c.title?.(row)}>
                {c.cell(row)}
              </span>
            ))}
          </div>
        )}
      />
    </div>
  );
}
