/**
 * Editing a list page's items (Nodes, Routes): which of the add / edit / remove dialogs is
 * open, the list kept in step with the engine's answers, the last refusal and notice. The
 * page gives the form and what removing means; the buttons of its edit column open the dialogs.
 */
import { useState, type ReactNode } from 'react';
import type { ApiError } from '../../../shared/api.js';
import { asApiError } from '../transport.js';
import type { Column } from './table-columns.js';
import { Dialog } from './Dialog.js';

/** What a list page is editing: a new item, an existing one, or one to remove. */
export type Editing<T> = { kind: 'add' } | { kind: 'edit'; item: T } | { kind: 'delete'; item: T };

/**
 * The editing state of a list of `noun`s ("node", "route"): `items` as shown, `setItems` to
 * show another list, `deleteItem` to remove one on the engine.
 */
export function useListEditing<T extends { id: string }>(
  noun: string,
  items: readonly T[],
  setItems: (items: T[]) => void,
  deleteItem: (id: string) => Promise<unknown>,
) {
  const [editing, setEditing] = useState<Editing<T>>();
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const title = noun.charAt(0).toUpperCase() + noun.slice(1);
  /** Put `item` in place of the one with `oldId` (an edit may change the id), or add it. */
  const replaceInList = (item: T, oldId = item.id) =>
    setItems(items.some((i) => i.id === oldId) ? items.map((i) => (i.id === oldId ? item : i)) : [...items, item]);
  const remove = (item: T) => {
    deleteItem(item.id)
      .then(() => {
        setItems(items.filter((i) => i.id !== item.id));
        setNotice(`${title} ${item.id} removed.`);
      })
      .catch((caught: unknown) => setError(asApiError(caught)))
      .finally(() => setEditing(undefined));
  };
  return { editing, setEditing, error, setError, notice, setNotice, replaceInList, remove };
}

export interface EditDialogsProps<T extends { id: string }> {
  editing: Editing<T> | undefined;
  /** What an item is called in titles and buttons: "node", "route". */
  noun: string;
  onClose: () => void;
  /** The form for a new item (undefined) or for `item`. */
  form: (item: T | undefined) => ReactNode;
  /** What removing the item does, said before the operator confirms. */
  removeNote: (item: T) => ReactNode;
  onRemove: (item: T) => void;
}

export function EditDialogs<T extends { id: string }>({ editing, noun, onClose, form, removeNote, onRemove }: EditDialogsProps<T>) {
  if (!editing) return null;
  if (editing.kind === 'add') {
    return (
      <Dialog title={`Add ${noun}`} onClose={onClose} wide>
        {form(undefined)}
      </Dialog>
    );
  }
  if (editing.kind === 'edit') {
    return (
      <Dialog title={`Edit ${noun} ${editing.item.id}`} onClose={onClose} wide>
        {form(editing.item)}
      </Dialog>
    );
  }
  return (
    <Dialog title={`Remove ${noun} ${editing.item.id}?`} onClose={onClose}>
      {removeNote(editing.item)}
      <div className="form-actions">
        <button type="button" onClick={onClose}>
          Keep it
        </button>
        <button type="button" className="danger" onClick={() => onRemove(editing.item)}>
          Remove {noun}
        </button>
      </div>
    </Dialog>
  );
}

/** The column of Edit and Remove buttons that open `setEditing`'s dialogs for the row. */
export function editColumn<T extends { id: string }>(setEditing: (editing: Editing<T>) => void): Column<T> {
  return {
    id: 'actions',
    className: 'actions',
    cell: (item) => (
      <>
        <button type="button" className="small" onClick={() => setEditing({ kind: 'edit', item })}>
          Edit
        </button>
        <button type="button" className="small danger" onClick={() => setEditing({ kind: 'delete', item })}>
          Remove
        </button>
      </>
    ),
  };
}
