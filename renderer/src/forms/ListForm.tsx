/**
 * One form for adding or editing an item of a list (a node, a route): its fields are data
 * (text, textarea, integer, select, check; a section may draw itself for what is not a plain field),
 * the draft is kept here, the page's checks run on submit and every message lands under
 * the field it names (useSubmission), the engine's refusals included. Cancel closes
 * without saving.
 */
import { Fragment, useState, type FormEvent, type ReactNode } from 'react';
import { ErrorNotice } from '../components/Notice.js';
import { CheckField, SelectField, TextAreaField, TextField } from './fields.js';
import { useSubmission } from './submission.js';
import { integerOrUndefined, type FieldErrors } from './validate.js';

/** An item being edited: field name → value, as the shared schema reads it. */
export type Draft = Record<string, unknown>;

interface FieldBase {
  /** The draft key, and the key its errors come under. */
  key: string;
  label: string;
  hint?: ReactNode;
  /** Shown only when this holds for the draft. */
  when?: (draft: Draft) => boolean;
}

/** One plain field of a list form. */
export type FieldSpec =
  | (FieldBase & { kind: 'text'; readOnly?: boolean })
  /** Text over several lines (one item per line). */
  | (FieldBase & { kind: 'textarea'; rows?: number })
  /** An integer; empty means undefined (the default applies). */
  | (FieldBase & { kind: 'integer' })
  | (FieldBase & { kind: 'select'; options: readonly { value: string | number; label: string }[]; fallback?: string | number })
  /** `checked` reads the value (e.g. `v !== false` for a field that defaults to true). */
  | (FieldBase & { kind: 'check'; checked: (value: unknown) => boolean });

/** What a section that draws itself gets. */
export interface FormContext {
  draft: Draft;
  errors: FieldErrors;
  set: (key: string, value: unknown) => void;
}

/**
 * A grid of plain fields, or a part that draws itself (a node picker, a rules box). A grid
 * with a `title` is a group of its own (a fieldset named by its legend), with an optional
 * line of explanation under the title.
 */
export type FormSection = { fields: readonly FieldSpec[]; title?: string; hint?: ReactNode } | { render: (context: FormContext) => ReactNode };

export interface ListFormProps<A> {
  /** Accessible name of the form: "Add route", "Edit node edge2". */
  label: string;
  submitText: string;
  /** The draft the form starts from (read once). */
  initial: Draft;
  sections: readonly FormSection[];
  /** Messages by field for a draft; the form sends it only when there is none. */
  validate: (draft: Draft) => FieldErrors;
  /** Sends a draft that passed `validate`; resolves with the engine's answer. */
  send: (draft: Draft) => Promise<A>;
  onDone: (answer: A) => void;
  /** Shows a Cancel button that calls it. */
  onCancel?: () => void;
  /** Drawn under the fields, from the draft as it is now (live warnings). */
  footer?: (draft: Draft) => ReactNode;
  /** Moves the engine's field errors to the fields that show them (a nested field's message from under its parent). */
  engineErrors?: (errors: FieldErrors) => FieldErrors;
}

export function ListForm<A>({ label, submitText, initial, sections, validate, send, onDone, onCancel, footer, engineErrors }: ListFormProps<A>) {
  const [draft, setDraft] = useState<Draft>(() => ({ ...initial }));
  const submission = useSubmission(engineErrors);
  const { errors, failure, busy } = submission;
  const set = (key: string, value: unknown) => setDraft((d) => ({ ...d, [key]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    submission.send(validate(draft), () => send(draft), onDone);
  };
  const context: FormContext = { draft, errors, set };
  return (
    <form className="form" onSubmit={submit} noValidate aria-label={label}>
      <ErrorNotice error={failure} />
      {sections.map((section, i) =>
        'render' in section ? (
          <Fragment key={i}>{section.render(context)}</Fragment>
        ) : section.title ? (
          <fieldset key={i} className="form-group">
            <legend>{section.title}</legend>
            {section.hint && <p className="hint">{section.hint}</p>}
            <FieldGrid fields={section.fields} context={context} />
          </fieldset>
        ) : (
          <FieldGrid key={i} fields={section.fields} context={context} />
        ),
      )}
      {footer?.(draft)}
      <div className="form-actions">
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {submitText}
        </button>
      </div>
    </form>
  );
}

/** The fields of a section that apply to the draft as it is now. */
function FieldGrid({ fields, context }: { fields: readonly FieldSpec[]; context: FormContext }) {
  return (
    <div className="form-grid">
      {fields
        .filter((f) => !f.when || f.when(context.draft))
        .map((f) => (
          <Field key={f.key} spec={f} context={context} />
        ))}
    </div>
  );
}

function Field({ spec, context }: { spec: FieldSpec; context: FormContext }) {
  const { draft, errors, set } = context;
  const value = draft[spec.key];
  const common = { label: spec.label, hint: spec.hint, error: errors[spec.key] };
  switch (spec.kind) {
    case 'text':
      return <TextField {...common} value={String(value ?? '')} readOnly={spec.readOnly} onChange={(v) => set(spec.key, v)} />;
    case 'textarea':
      return <TextAreaField {...common} value={String(value ?? '')} rows={spec.rows} onChange={(v) => set(spec.key, v)} />;
    case 'integer':
      return <TextField {...common} value={value === undefined ? '' : String(value)} onChange={(v) => set(spec.key, integerOrUndefined(v))} />;
    case 'select':
      return (
        <SelectField
          {...common}
          value={(value as string | number | undefined) ?? spec.fallback ?? ''}
          options={spec.options}
          onChange={(v) => set(spec.key, v)}
        />
      );
    case 'check':
      return <CheckField {...common} checked={spec.checked(value)} onChange={(v) => set(spec.key, v)} />;
  }
}
