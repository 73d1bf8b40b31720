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
  /** The values are counts: grid steps are whole numbers. */
  integer?: boolean;
}

const MARGIN = { top: 10, right: 12, bottom: 22, left: 72 };
/** Most horizontal grid lines above zero. */
const MAX_Y_TICKS = 4;
const X_TICKS = 5;

/** The y axis: a step of 1, 2 or 5 × a power of ten, and at most MAX_Y_TICKS steps to the top. */
export function niceScale(max: number, integer = false): { step: number; top: number } {
  // All zero (or no finite value): an axis from 0 to 1.
  if (!(max > 0) || !Number.isFinite(max)) return integer ? { step: 1, top: 1 } : { step: 0.25, top: 1 };
  const wanted = max / MAX_Y_TICKS;
  const power = 10 ** Math.floor(Math.log10(wanted));
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= wanted) ?? 10 * power;
  if (integer) step = Math.max(1, Math.round(step));
  return { step, top: Math.ceil(max / step) * step };
}

function pathOf(values: readonly number[], x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  for (let i = 0; i < values.length; i += 1) d += `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)} ${y(values[i]).toFixed(1)}`;
  return d;
}

export function LineChart({ title, times, series, format, timeFormat, height = 180, emptyText = 'Collecting data…', integer = false }: LineChartProps) {
  const [ref, size] = useElementSize<HTMLDivElement>();
  const [hover, setHover] = useState<number>();
  const width = Math.max(size.width, 200);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const count = times.length;

  const geometry = useMemo(() => {
    let max = 0;
    for (const s of series) for (const v of s.values) if (v > max) max = v;
    const { top, step } = niceScale(max, integer);
    const x = (i: number) => MARGIN.left + (count > 1 ? (i / (count - 1)) * plotW : 0);
    const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
    const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
    return { top, x, y, ticks, paths: series.map((s) => pathOf(s.values, x, y)) };
  }, [series, count, plotW, plotH, integer]);

  const onMove = (event: PointerEvent<SVGSVGElement>) => {
    if (count < 2) return;
    const box = event.currentTarget.getBoundingClientRect();
    const ratio = (event.clientX - box.left - MARGIN.left) / plotW;
    setHover(Math.max(0, Math.min(count - 1, Math.round(ratio * (count - 1)))));
  };

  const baseline = MARGIN.top + plotH;
  return (
    <figure className="chart" aria-label={title}>
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
      <div className="chart-body" ref={ref}>
        {count < 2 ? (
          <div className="chart-empty">{emptyText}</div>
        ) : (
          <svg width={width} height={height} onPointerMove={onMove} onPointerLeave={() => setHover(undefined)} role="img">
            {geometry.ticks.map((value, i) => {
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
      </div>
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
