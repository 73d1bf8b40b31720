/**
 * "Copy": puts a text on the clipboard. The async clipboard can be refused (permissions, a
 * page not on a secure origin); then the text is selected in a read-only field for Ctrl+C.
 */
import { useRef, useState } from 'react';

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'copied' | 'select'>();
  const field = useRef<HTMLInputElement>(null);
  const copy = () => {
    const fallback = () => {
      setState('select');
      requestAnimationFrame(() => {
        field.current?.select();
        if (document.execCommand('copy')) setState('copied');
      });
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => setState('copied'), fallback);
    else fallback();
  };
  return (
    <span className="copy-button">
      <button type="button" className="small" onClick={copy} aria-label={`${label}: ${text}`}>
        {state === 'copied' ? 'Copied' : label}
      </button>
      {state === 'select' && <input ref={field} readOnly value={text} aria-label="Text to copy (press Ctrl+C)" size={Math.min(60, text.length)} />}
    </span>
  );
}
