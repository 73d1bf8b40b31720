/**
 * Asks for the admin token once per tab (browser mode only). The token comes from the
 * config file (admin.token); it is kept in sessionStorage and never put in the URL.
 */
import { useState, type FormEvent } from 'react';

export interface TokenFormProps {
  /** Why the form is shown again, e.g. the server refused the last token. */
  notice?: string;
  onSubmit: (token: string) => void;
}

export function TokenForm({ notice, onSubmit }: TokenFormProps) {
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = token.trim();
    if (trimmed) onSubmit(trimmed);
  };
  return (
    <form className="token-form" onSubmit={submit} autoComplete="off">
      <h1>RelayDeck</h1>
      <p>
        Paste the admin token (the <code>admin.token</code> field of the config file).
      </p>
      {notice && <p className="notice">{notice}</p>}
      <label>
        Admin token
        <input type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" autoFocus spellCheck={false} />
      </label>
      <button type="submit" disabled={!token.trim()}>
        Connect
      </button>
    </form>
  );
}
