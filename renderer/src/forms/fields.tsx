/** Labelled form fields that show their validation message under the input. */
import { useId, type ReactNode } from 'react';

interface FieldShell {
  label: string;
  error?: string;
  hint?: ReactNode;
}

function Shell({ id, label, error, hint, children }: FieldShell & { id: string; children: ReactNode }) {
  return (
    <div className={`field ${error ? 'invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error && <small className="hint">{hint}</small>}
      {error && (
        <small className="field-error" role="alert" id={`${id}-error`}>
          {error}
        </small>
      )}
    </div>
  );
}

export function TextField(props: FieldShell & { value: string; onChange: (v: string) => void; placeholder?: string; readOnly?: boolean; type?: string }) {
  const id = useId();
  return (
    <Shell id={id} {...props}>
      <input
        id={id}
        type={props.type ?? 'text'}
        value={props.value}
        placeholder={props.placeholder}
        readOnly={props.readOnly}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </Shell>
  );
}

export function TextAreaField(props: FieldShell & { value: string; onChange: (v: string) => void; rows?: number }) {
  const id = useId();
  return (
    <Shell id={id} {...props}>
      <textarea
        id={id}
        rows={props.rows ?? 3}
        value={props.value}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </Shell>
  );
}

export function SelectField<T extends string | number>(
  props: FieldShell & { value: T; options: readonly { value: T; label: string }[]; onChange: (v: T) => void },
) {
  const id = useId();
  return (
    <Shell id={id} {...props}>
      <select
        id={id}
        value={String(props.value)}
        aria-invalid={props.error ? true : undefined}
        onChange={(e) => props.onChange(props.options.find((o) => String(o.value) === e.target.value)!.value)}
      >
        {props.options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </Shell>
  );
}

export function CheckField(props: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: ReactNode; error?: string }) {
  const id = useId();
  return (
    <div className={`field check ${props.error ? 'invalid' : ''}`}>
      <label htmlFor={id}>
        <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} /> {props.label}
      </label>
      {props.hint && !props.error && <small className="hint">{props.hint}</small>}
      {props.error && (
        <small className="field-error" role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}
