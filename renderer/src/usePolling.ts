/**
 * Load data now and again `intervalMs` after each load finishes (never two loads at once).
 * `refresh()` loads immediately, e.g. after a change. Stops when the component unmounts.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from '../../shared/api.js';
import { asApiError } from './transport.js';

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | undefined;
  refresh: () => void;
}

export function usePolling<T>(load: () => Promise<T>, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await loadRef.current();
        if (cancelled) return;
        setData(next);
        setError(undefined);
      } catch (caught) {
        if (cancelled) return;
        setError(asApiError(caught));
      }
      if (!cancelled) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [intervalMs, generation]);

  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, refresh };
}
