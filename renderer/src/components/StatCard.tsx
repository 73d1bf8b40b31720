/** One headline figure on the dashboard: a label, the value, and a line of context. */
import type { ReactNode } from 'react';

export interface StatCardProps {
  label: string;
  value: ReactNode;
  detail?: ReactNode;
  tone?: 'good' | 'warn' | 'bad';
  /** Explains how the figure is worked out (shown as a tooltip). */
  title?: string;
}

export function StatCard({ label, value, detail, tone, title }: StatCardProps) {
  return (
    <section className={`stat ${tone ?? ''}`} aria-label={label} title={title}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {detail !== undefined && <div className="stat-detail">{detail}</div>}
    </section>
  );
}
