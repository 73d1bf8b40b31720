/**
 * DataTable's pure part (renderer/src/components/table-columns.ts): rows sort by a column's
 * key (stable, numbers by value, text with numbers in order), a header click flips the
 * order, a virtualized table's grid tracks are the columns' widths, and row data becomes
 * data-* attributes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataAttributes, gridTracks, nextSort, sortRows, type Column } from '../../../renderer/src/components/table-columns.js';

interface Item {
  id: string;
  weight: number;
}

const COLUMNS: Column<Item>[] = [
  { id: 'id', header: 'Id', cell: (i) => i.id, sortKey: (i) => i.id, width: '64px' },
  { id: 'weight', header: 'Weight', cell: (i) => i.weight, sortKey: (i) => i.weight },
  { id: 'plain', header: 'Plain', cell: () => '', width: 'minmax(60px, 1fr)' },
];
const ITEMS: Item[] = [
  { id: 'node10', weight: 2 },
  { id: 'node2', weight: 10 },
  { id: 'node1', weight: 2 },
];

describe('DataTable columns', () => {
  it('leaves the rows as given when nothing is sorted or the column has no sort key', () => {
    assert.equal(sortRows(ITEMS, COLUMNS, undefined), ITEMS);
    assert.equal(sortRows(ITEMS, COLUMNS, { columnId: 'plain', descending: false }), ITEMS);
  });

  it('sorts numbers by value and text with its numbers in order, either way', () => {
    assert.deepEqual(
      sortRows(ITEMS, COLUMNS, { columnId: 'id', descending: false }).map((i) => i.id),
      ['node1', 'node2', 'node10'],
    );
    assert.deepEqual(
      sortRows(ITEMS, COLUMNS, { columnId: 'id', descending: true }).map((i) => i.id),
      ['node10', 'node2', 'node1'],
    );
    assert.deepEqual(
      sortRows(ITEMS, COLUMNS, { columnId: 'weight', descending: true }).map((i) => i.weight),
      [10, 2, 2],
    );
  });

  it('keeps rows with the same key in their order (stable)', () => {
    assert.deepEqual(
      sortRows(ITEMS, COLUMNS, { columnId: 'weight', descending: false }).map((i) => i.id),
      ['node10', 'node1', 'node2'],
    );
    assert.deepEqual(
      sortRows(ITEMS, COLUMNS, { columnId: 'weight', descending: true }).map((i) => i.id),
      ['node2', 'node10', 'node1'],
    );
  });

  it('a header click sorts ascending first, then flips; another header starts ascending', () => {
    const first = nextSort(undefined, 'id');
    assert.deepEqual(first, { columnId: 'id', descending: false });
    assert.deepEqual(nextSort(first, 'id'), { columnId: 'id', descending: true });
    assert.deepEqual(nextSort(nextSort(first, 'id'), 'weight'), { columnId: 'weight', descending: false });
  });

  it('lays a virtualized table on the columns widths, auto where none is named', () => {
    assert.equal(gridTracks(COLUMNS), '64px auto minmax(60px, 1fr)');
  });

  it('names row data as data-* attributes', () => {
    assert.deepEqual(dataAttributes({ route: 'cams', n: 2 }), { 'data-route': 'cams', 'data-n': 2 });
    assert.deepEqual(dataAttributes(undefined), {});
  });
});
