// A small inline equity line (SVG): cheap enough for every row of a table.
interface Props {
  values: number[];
  label: string;
  width?: number;
  height?: number;
}

export function Sparkline({ values, label, width = 120, height = 28 }: Props) {
  if (values.length < 2) return <span class="muted">—</span>;
  const step = Math.max(1, Math.floor(values.length / width));
  const points = values.filter((_, i) => i % step === 0 || i === values.length - 1);
  const lo = Math.min(...points);
  const hi = Math.max(...points);
  const span = hi - lo || 1;
  const d = points
    .map((v, i) => {
      const x = (i / (points.length - 1)) * (width - 2) + 1;
      const y = height - 1 - ((v - lo) / span) * (height - 2);
      return `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join("");
  const up = points[points.length - 1] >= points[0];
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <path d={d} fill="none" stroke={up ? "#15803d" : "#b91c1c"} stroke-width="1.5" />
    </svg>
  );
}
