/** An on/off switch (a button with role="switch"), e.g. a route's redirect/proxy mode. */
export interface SwitchProps {
  checked: boolean;
  onChange: (checked: boolean) => void;
  /** Accessible name, e.g. "Proxy mode for route live". */
  label: string;
  /** Text shown on each side. */
  offText?: string;
  onText?: string;
  disabled?: boolean;
}

export function Switch({ checked, onChange, label, offText, onText, disabled }: SwitchProps) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      className={`switch ${checked ? 'on' : 'off'}`}
      disabled={disabled}
      onClick={() => onChange(!checked)}
    >
      {offText && <span className="switch-text off-text">{offText}</span>}
      <span className="switch-track">
        <span className="switch-thumb" />
      </span>
      {onText && <span className="switch-text on-text">{onText}</span>}
    </button>
  );
}
