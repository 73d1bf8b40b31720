/**
 * Sending a form to the engine: field errors found in the browser stop it; the engine's
 * "body.FIELD: ..." refusals land under their field, any other failure above the form.
 */
import { useState } from 'react';
import type { ApiError } from '../../../shared/api.js';
import { asApiError } from '../transport.js';
import { fieldErrorFromApi, hasErrors, type FieldErrors } from './validate.js';

export interface Submission {
  errors: FieldErrors;
  /** A refusal that names no field. */
  failure: ApiError | undefined;
  /** A request is in flight. */
  busy: boolean;
  /** Show `found`; when it is empty, run `request` and hand its answer to `onDone`. */
  send<T>(found: FieldErrors, request: () => Promise<T>, onDone: (answer: T) => void): void;
}

/** `engineErrors` moves the engine's field errors to the fields that show them (identity when absent). */
export function useSubmission(engineErrors: (errors: FieldErrors) => FieldErrors = (errors) => errors): Submission {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const send = <T>(found: FieldErrors, request: () => Promise<T>, onDone: (answer: T) => void) => {
    setErrors(found);
    setFailure(undefined);
    if (hasErrors(found)) return;
    setBusy(true);
    request()
      .then(onDone)
      .catch((caught: unknown) => {
        const error = asApiError(caught);
        const byField = fieldErrorFromApi(error);
        if (byField) setErrors(engineErrors(byField));
        else setFailure(error);
      })
      .finally(() => setBusy(false));
  };
  return { errors, failure, busy, send };
}
