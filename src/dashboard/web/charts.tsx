/**
 * Charts: metric histories with uPlot (fast with many points), and small SVG charts for the
 * rest (scatter, parallel coordinates, bars), which need no canvas and scale to any width.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { fmtAxis, fmtNum } from './format';

const PALETTE = ['#2457c5', '#d92d20', '#12b76a', '#f79009', '#7a3ec8', '#0e9384', '#c11574', '#475467'];
export const color = (i: number) => PALETTE[i % PALETTE.length];

/** Line chart of series over a shared x (steps), drawn by uPlot; resizes with its box. */
export function LineChart({
  title,
  series,
  xLabel,
}: {
  title: string;
  series: Array<{ label: string; points: Array<[number, number]> }>;
  xLabel: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const ys = series.map((s) => {
      const arr: Array<number | null> = new Array(xs.length).fill(null);
      for (const [x, y] of s.points) arr[index.get(x)!] = y;
      return arr;
    });
    const width = Math.max(260, el.clientWidth - 16);
    const plot = new uPlot(
      {
        title,
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: xLabel }, { size: 70, values: (_u, vals) => vals.map((v) => fmtAxis(v)) }],
        series: [
          { label: xLabel },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: color(i),
            width: 1.5,
            spanGaps: true,
            points: { show: xs.length < 60 },
          })),
        ],
        legend: { show: true },
      },
      [xs, ...ys] as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(260, el.clientWidth - 16), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [title, series, xLabel]);
  return <div class="chart" ref={box} data-testid={`chart-${title}`} />;
}

/**
 * The width of a chart's box in CSS pixels, followed as it resizes, so an SVG chart is drawn
 * at its real size (text stays at its CSS size on a phone instead of shrinking with a fixed
 * viewBox). Before the first measure: `fallback`.
 */
export function useBoxWidth(fallback: number, min: number, max: number) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => {
      const cs = getComputedStyle(el);
      const inner = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      if (inner > 0) setWidth(Math.round(Math.min(max, Math.max(min, inner))));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return { box, width };
}

interface Scale {
  (v: number): number;
  ticks: number[];
}

function linear(min: number, max: number, a: number, b: number): Scale {
  if (!(max > min)) {
    const pad = Math.abs(min) * 0.05 || 1;
    min -= pad;
    max += pad;
  }
  const f = ((v: number) => a + ((v - min) / (max - min)) * (b - a)) as Scale;
  const step = niceStep((max - min) / 5);
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(t);
  f.ticks = ticks;
  return f;
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  const n = raw / p;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * p;
}

export interface Point {
  x: number;
  y: number;
  label?: string;
  href?: string;
  group?: number;
}

/** Scatter plot with optional y = x line (predicted vs actual) or y = 0 line (residuals). */
export function Scatter({
  points,
  xLabel,
  yLabel,
  diagonal,
  zeroLine,
  testid,
}: {
  points: Point[];
  xLabel: string;
  yLabel: string;
  diagonal?: boolean;
  zeroLine?: boolean;
  testid?: string;
}) {
  const { box, width: W } = useBoxWidth(640, 280, 900);
  const H = Math.round(Math.min(400, Math.max(240, W * 0.62)));
  const m = { l: 70, r: 16, t: 12, b: 44 };
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (diagonal) {
    x0 = y0 = Math.min(x0, y0);
    x1 = y1 = Math.max(x1, y1);
  }
  if (zeroLine) {
    y0 = Math.min(y0, 0);
    y1 = Math.max(y1, 0);
  }
  const sx = linear(x0, x1, m.l, W - m.r);
  const sy = linear(y0, y1, H - m.b, m.t);
  const r = points.length > 2000 ? 1.5 : points.length > 300 ? 2.5 : 4;
  return (
    <div class="chart" data-testid={testid} ref={box}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${yLabel} against ${xLabel}`}>
        {sx.ticks.map((t) => (
          <g key={`x${t}`}>
            <line x1={sx(t)} x2={sx(t)} y1={m.t} y2={H - m.b} stroke="#eef0f4" />
            <text x={sx(t)} y={H - m.b + 16} text-anchor="middle">
              {fmtAxis(t)}
            </text>
          </g>
        ))}
        {sy.ticks.map((t) => (
          <g key={`y${t}`}>
            <line x1={m.l} x2={W - m.r} y1={sy(t)} y2={sy(t)} stroke="#eef0f4" />
            <text x={m.l - 6} y={sy(t) + 4} text-anchor="end">
              {fmtAxis(t)}
            </text>
          </g>
        ))}
        {diagonal ? (
          <line x1={sx(x0)} y1={sy(x0)} x2={sx(x1)} y2={sy(x1)} stroke="#98a2b3" stroke-dasharray="4 4" />
        ) : null}
        {zeroLine ? <line x1={m.l} x2={W - m.r} y1={sy(0)} y2={sy(0)} stroke="#98a2b3" stroke-dasharray="4 4" /> : null}
        {points.map((p, i) => {
          const c = (
            <circle key={i} cx={sx(p.x)} cy={sy(p.y)} r={r} fill={color(p.group ?? 0)} fill-opacity="0.7">
              {p.label ? <title>{p.label}</title> : null}
            </circle>
          );
          return p.href ? (
            <a key={i} href={p.href}>
              {c}
            </a>
          ) : (
            c
          );
        })}
        <text x={(m.l + W - m.r) / 2} y={H - 8} text-anchor="middle" class="axis-label">
          {xLabel}
        </text>
        <text transform={`translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)`} text-anchor="middle" class="axis-label">
          {yLabel}
        </text>
      </svg>
    </div>
  );
}

/** Parallel coordinates: one vertical axis per dimension, one polyline per run, coloured by the last axis. */
export function ParallelCoordinates({
  dims,
  rows,
  testid,
}: {
  dims: Array<{ label: string; values: Array<number | string | undefined> }>;
  rows: Array<{ label: string; href?: string }>;
  testid?: string;
}) {
  const W = Math.max(480, dims.length * 140);
  const H = 360;
  const m = { l: 40, r: 60, t: 28, b: 24 };
  const gap = dims.length > 1 ? (W - m.l - m.r) / (dims.length - 1) : 0;
  // numeric axes scale linearly; text axes place their distinct values evenly
  const axes = dims.map((d) => {
    const nums = d.values.filter((v): v is number => typeof v === 'number');
    if (nums.length === d.values.filter((v) => v !== undefined).length && nums.length > 0) {
      const s = linear(Math.min(...nums), Math.max(...nums), H - m.b, m.t);
      return {
        at: (v: number | string | undefined) => (typeof v === 'number' ? s(v) : null),
        ticks: s.ticks.map((t) => ({ y: s(t), label: fmtAxis(t) })),
      };
    }
    const cats = [...new Set(d.values.filter((v) => v !== undefined).map(String))].sort();
    const pos = (i: number) =>
      cats.length < 2 ? (H - m.b + m.t) / 2 : H - m.b - (i / (cats.length - 1)) * (H - m.b - m.t);
    return {
      at: (v: number | string | undefined) => (v === undefined ? null : pos(cats.indexOf(String(v)))),
      ticks: cats.map((c, i) => ({ y: pos(i), label: c })),
    };
  });
  const last = dims[dims.length - 1];
  const lastNums = last ? last.values.filter((v): v is number => typeof v === 'number') : [];
  const lo = Math.min(...lastNums);
  const hi = Math.max(...lastNums);
  const shade = (v: number | string | undefined) => {
    if (typeof v !== 'number' || !(hi > lo)) return '#2457c5';
    const t = (v - lo) / (hi - lo);
    return `hsl(${Math.round(220 - t * 220)}, 70%, 45%)`;
  };
  return (
    <div class="chart scroll-x" data-testid={testid}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        style={{ minWidth: `${Math.min(W, 700)}px` }}
        role="img"
        aria-label="parallel coordinates"
      >
        {rows.map((r, i) => {
          const pts = dims.map((d, j) => {
            const y = axes[j].at(d.values[i]);
            return y === null ? null : `${m.l + j * gap},${y}`;
          });
          if (pts.some((p) => p === null)) return null;
          return (
            <polyline
              key={i}
              points={pts.join(' ')}
              fill="none"
              stroke={shade(last?.values[i])}
              stroke-opacity="0.6"
              stroke-width="1.5"
            >
              <title>{r.label}</title>
            </polyline>
          );
        })}
        {dims.map((d, j) => (
          <g key={d.label}>
            <line x1={m.l + j * gap} x2={m.l + j * gap} y1={m.t} y2={H - m.b} stroke="#475467" />
            <text x={m.l + j * gap} y={m.t - 10} text-anchor="middle" class="axis-label">
              {d.label}
            </text>
            {axes[j].ticks.map((t) => (
              <text key={t.label} x={m.l + j * gap + 4} y={t.y + 4}>
                {t.label}
              </text>
            ))}
          </g>
        ))}
      </svg>
    </div>
  );
}

/** Horizontal bars with labels (error by slice, explanation contributions). */
export function Bars({
  items,
  format,
  testid,
  signed,
}: {
  items: Array<{ label: string; value: number; note?: string; flagged?: boolean }>;
  format: (v: number) => string;
  testid?: string;
  signed?: boolean;
}) {
  const { box, width: W } = useBoxWidth(640, 280, 960);
  const row = 22;
  const H = items.length * row + 8;
  const labelW = Math.min(240, Math.round(W * 0.36));
  const valueW = Math.min(110, Math.round(W * 0.22));
  // about 8 px a character at the charts' 13 px text
  const maxChars = Math.max(6, Math.floor((labelW - 8) / 8));
  const max = Math.max(...items.map((i) => Math.abs(i.value)), 1e-12);
  const zero = signed ? labelW + (W - labelW - valueW) / 2 : labelW;
  const span = signed ? (W - labelW - valueW) / 2 : W - labelW - valueW;
  return (
    <div class="chart bars" data-testid={testid} ref={box}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="bar chart">
        {items.map((it, i) => {
          const w = (Math.abs(it.value) / max) * span;
          const x = it.value >= 0 ? zero : zero - w;
          return (
            <g key={it.label + i}>
              <text
                x={labelW - 6}
                y={i * row + 16}
                text-anchor="end"
                style={{ fill: it.flagged ? '#b42318' : undefined }}
              >
                {it.label.length > maxChars ? it.label.slice(0, maxChars - 1) + '…' : it.label}
              </text>
              <rect
                x={x}
                y={i * row + 5}
                width={Math.max(w, 1)}
                height={row - 8}
                class={signed ? (it.value >= 0 ? 'pos' : 'neg') : undefined}
                fill={signed ? undefined : it.flagged ? '#d92d20' : '#2457c5'}
              >
                <title>{`${it.label}: ${format(it.value)}${it.note ? ` (${it.note})` : ''}`}</title>
              </rect>
              <text x={W - valueW + 6} y={i * row + 16}>
                {format(it.value)}
              </text>
            </g>
          );
        })}
        {signed ? <line x1={zero} x2={zero} y1={0} y2={H} stroke="#98a2b3" /> : null}
      </svg>
    </div>
  );
}
