/**
 * The add / edit / remove dialogs of a list page (Nodes, Routes): one state says which is
 * open; the page gives the form and what removing means. Row buttons open them.
 */
import type { ReactNode } from 'react';
import { Dialog } from './Dialog.js';

/** What a list page is editing: a new item, an existing one, or one to remove. */
export type Editing<T> = { kind: 'add' } | { kind: 'edit'; item: T } | { kind: 'delete'; item: T };

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

/** The Edit and Remove buttons of a row. */
export function RowActions({ onEdit, onRemove }: { onEdit: () => void; onRemove: () => void }) {
  return (
    <td className="actions">
      <button type="button" className="small" onClick={onEdit}>
        Edit
      </button>
      <button type="button" className="small danger" onClick={onRemove}>
        Remove
      </button>
    </td>
  );
}
