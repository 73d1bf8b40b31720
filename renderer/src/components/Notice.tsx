/** A dismissible message line: an API error (with its code) or a confirmation. */
import type { ApiError } from '../../../shared/api.js';

export function ErrorNotice({ error, onDismiss, prefix }: { error: ApiError | undefined; onDismiss?: () => void; prefix?: string }) {
  if (!error) return null;
  return (
    <p className="notice error" role="alert">
      {prefix ? `${prefix}: ` : ''}
      {error.message} <code>{error.code}</code>
      {onDismiss && (
        <button type="button" className="ghost" aria-label="Dismiss" onClick={onDismiss}>
          ✕
        </button>
      )}
    </p>
  );
}

export function InfoNotice({ text, onDismiss }: { text: string | undefined; onDismiss?: () => void }) {
  if (!text) return null;
  return (
    <p className="notice info" role="status">
      {text}
      {onDismiss && (
        <button type="button" className="ghost" aria-label="Dismiss" onClick={onDismiss}>
          ✕
        </button>
      )}
    </p>
  );
}
