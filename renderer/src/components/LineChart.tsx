/**
 * A small hand-drawn SVG line chart: a few series over time, a y axis with round steps,
 * time labels, and a hover readout of every series at the nearest point. Drawn at the
 * element's real width (no stretched text); 1440 points are a single path per series.
 */
import { useMemo, useState, type PointerEvent } from 'react';
import { useElementSize } from './useElementSize.js';

export interface ChartSeries {
  label: string;
  values: readonly number[];
  /** Colour slot 0..4 (styles.css .series-N). */
  color: number;
  /** Fill the area under the line. */
  area?: boolean;
}

export interface LineChartProps {
  title: string;
  times: readonly number[];
  series: ChartSeries[];
  /** Formats a y value, e.g. formatBitsPerSecond. */
  format: (value: number) => string;
  /** Formats a time label. */
  timeFormat: (ms: number) => string;
  height?: number;
  /** Shown when there are fewer than two points. */
  emptyText?: string;
}

const MARGIN = { top: 10, right: 12, bottom: 22, left: 72 };
const Y_TICKS = 4;
const X_TICKS = 5;

/** A round axis maximum ≥ value: 1, 2, 2.5 or 5 × a power of ten. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function pathOf(values: readonly number[], x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  for (let i = 0; i < values.length; i += 1) d += `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)} ${y(values[i]).toFixed(1)}`;
  return d;
}

export function LineChart({ title, times, series, format, timeFormat, height = 180, emptyText = 'Collecting data…' }: LineChartProps) {
  const [ref, size] = useElementSize<HTMLDivElement>();
  const [hover, setHover] = useState<number>();
  const width = Math.max(size.width, 200);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const count = times.length;

  const geometry = useMemo(() => {
    let max = 0;
    for (const s of series) for (const v of s.values) if (v > max) max = v;
    const top = niceMax(max);
    const x = (i: number) => MARGIN.left + (count > 1 ? (i / (count - 1)) * plotW : 0);
    const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
    return { top, x, y, paths: series.map((s) => pathOf(s.values, x, y)) };
  }, [series, count, plotW, plotH]);

  const onMove = (event: PointerEvent<SVGSVGElement>) => {
    if (count < 2) return;
    const box = event.currentTarget.getBoundingClientRect();
    const ratio = (event.clientX - box.left - MARGIN.left) / plotW;
    setHover(Math.max(0, Math.min(count - 1, Math.round(ratio * (count - 1)))));
  };

  const baseline = MARGIN.top + plotH;
  return (
    <figure className="chart" ref={ref} aria-label={title}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="legend">
          {series.map((s) => (
            <span key={s.label} className={`legend-item series-${s.color}`}>
              {s.label}
            </span>
          ))}
        </span>
      </figcaption>
      {count < 2 ? (
        <div className="chart-empty">{emptyText}</div>
      ) : (
        <svg width={width} height={height} onPointerMove={onMove} onPointerLeave={() => setHover(undefined)} role="img">
          {Array.from({ length: Y_TICKS + 1 }, (_, i) => {
            const value = (geometry.top * i) / Y_TICKS;
            const y = geometry.y(value);
            return (
              <g key={i} className="grid">
                <line x1={MARGIN.left} x2={width - MARGIN.right} y1={y} y2={y} />
                <text x={MARGIN.left - 6} y={y + 4} textAnchor="end">
                  {format(value)}
                </text>
              </g>
            );
          })}
          {Array.from({ length: X_TICKS }, (_, i) => {
            const index = Math.round((i / (X_TICKS - 1)) * (count - 1));
            return (
              <text key={i} className="axis" x={geometry.x(index)} y={height - 6} textAnchor={i === 0 ? 'start' : i === X_TICKS - 1 ? 'end' : 'middle'}>
                {timeFormat(times[index])}
              </text>
            );
          })}
          {series.map((s, i) => (
            <g key={s.label} className={`series-${s.color}`}>
              {s.area && <path className="area" d={`${geometry.paths[i]}L${geometry.x(count - 1)} ${baseline}L${geometry.x(0)} ${baseline}Z`} />}
              <path className="line" d={geometry.paths[i]} />
            </g>
          ))}
          {hover !== undefined && (
            <g className="hover">
              <line x1={geometry.x(hover)} x2={geometry.x(hover)} y1={MARGIN.top} y2={baseline} />
            </g>
          )}
        </svg>
      )}
      {hover !== undefined && count >= 2 && (
        <div className="chart-readout" role="status">
          <strong>{timeFormat(times[hover])}</strong>
          {series.map((s) => (
            <span key={s.label} className={`series-${s.color}`}>
              {s.label}: {format(s.values[hover] ?? 0)}
            </span>
          ))}
        </div>
      )}
    </figure>
  );
}
