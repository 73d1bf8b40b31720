/**
 * One setting on the Settings page: its input (checkbox, select, or text box), a button back
 * to the schema's default, and below it either the field's error or its hint (the schema's
 * doc, its default, and "applies after a restart" for a field that only a restart applies).
 */
import { choicesOf, defaultOf, metaOf, unitOf, type SettingField } from './settings-fields.js';
import { displayOf, keyOf, type Values } from './settings-values.js';

/** The mark on a field that applies only after a restart. */
const AFTER_RESTART = ' · applies after a restart';

/** The doc without its "applies after a restart" sentence, which the mark after the default says instead. */
function withoutRestartNote(doc: string | undefined): string | undefined {
  return doc?.replace(/;\s*applies after a restart\./i, '.').replace(/\s*Applies after a restart\./, '');
}

/** The field's error, or its hint: doc, default, and the restart mark. */
function HintOrError({ field, error, doc, defaultText }: { field: SettingField; error?: string; doc?: string; defaultText: string }) {
  if (error) {
    return (
      <small className="field-error" role="alert">
        {error}
      </small>
    );
  }
  return (
    <small className="hint">
      {field.restart ? withoutRestartNote(doc) : doc} default: {defaultText}
      {field.restart ? AFTER_RESTART : ''}
    </small>
  );
}

export function SettingInput({
  field,
  values,
  setValue,
  error,
}: {
  field: SettingField;
  values: Values;
  setValue: (k: string, v: string | boolean) => void;
  error?: string;
}) {
  const key = keyOf(field);
  const fallback = displayOf(defaultOf(field.section, field.key));
  const unit = unitOf(field);
  const doc = metaOf(field)?.doc;
  const defaultText = String(fallback) === '' ? '(unset)' : field.type === 'number' && unit ? `${String(fallback)} ${unit}` : String(fallback);
  const value = values[key];
  const id = `setting-${key.replaceAll('.', '-')}`;
  if (field.type === 'boolean') {
    return (
      <div className={`field check ${error ? 'invalid' : ''}`}>
        <label htmlFor={id}>
          <input id={id} type="checkbox" checked={value === true} onChange={(e) => setValue(key, e.target.checked)} /> {field.label}
        </label>
        <HintOrError field={field} error={error} doc={doc} defaultText={defaultText} />
      </div>
    );
  }
  return (
    <div className={`field ${error ? 'invalid' : ''}`}>
      <label htmlFor={id}>
        {field.label}
        {unit ? `, ${unit}` : ''}
      </label>
      <div className="with-reset">
        {field.type === 'choice' ? (
          <select id={id} value={String(value)} onChange={(e) => setValue(key, e.target.value)}>
            {choicesOf(field).map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        ) : field.type === 'list' || field.type === 'text' ? (
          <input id={id} value={String(value)} onChange={(e) => setValue(key, e.target.value)} aria-invalid={error ? true : undefined} spellCheck={false} />
        ) : (
          <input id={id} inputMode="numeric" value={String(value)} onChange={(e) => setValue(key, e.target.value)} aria-invalid={error ? true : undefined} />
        )}
        <button
          type="button"
          className="small ghost"
          onClick={() => setValue(key, String(fallback))}
          disabled={String(value) === String(fallback)}
          title="Back to the default"
        >
          default
        </button>
      </div>
      <HintOrError field={field} error={error} doc={doc} defaultText={defaultText} />
    </div>
  );
}
