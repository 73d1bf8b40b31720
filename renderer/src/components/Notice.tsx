/**
 * A dismissible message line: an API error (with its code) or a confirmation. Fleet mode's
 * refusals of a change (a conflict with another relay, Redis away) are said in the
 * operator's words first (fleet-errors.ts), with the engine's message after them.
 */
import type { ApiError } from '../../../shared/api.js';
import { fleetRefusalText } from '../fleet-errors.js';

export function ErrorNotice({ error, onDismiss, prefix }: { error: ApiError | undefined; onDismiss?: () => void; prefix?: string }) {
  if (!error) return null;
  const fleetText = fleetRefusalText(error);
  return (
    <p className="notice error" role="alert" data-code={error.code}>
      {prefix ? `${prefix}: ` : ''}
      {fleetText && <strong>{fleetText} </strong>}
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
