// The backtest chart: equity, trade markers and drawdown, drawn once the chart code has loaded.
import { useEffect, useRef, useState } from "preact/hooks";
import type { EquitySpec } from "./charts";

export function EquityChart({ spec, label }: { spec: EquitySpec; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const [drawn, setDrawn] = useState(false);
  useEffect(() => {
    let dispose: (() => void) | null = null;
    let cancelled = false;
    void import("./charts").then((m) => {
      if (cancelled || !el.current) return;
      dispose = m.drawEquity(el.current, spec);
      // Two frames: the canvases are painted by then.
      requestAnimationFrame(() => requestAnimationFrame(() => !cancelled && setDrawn(true)));
    });
    return () => {
      cancelled = true;
      dispose?.();
    };
  }, [spec]);
  // A figure with a caption, not role="img": the chart holds the library's attribution link.
  return (
    <figure class="chart-figure">
      <figcaption class="sr-only">{label}</figcaption>
      <div class="chart" ref={el} data-drawn={drawn ? "yes" : "no"} data-testid="equity-chart" />
    </figure>
  );
}

export function LiveChart({ points, label }: { points: { time: number; value: number }[]; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<{ update(p: { time: number; value: number }[]): void; dispose(): void } | null>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let cancelled = false;
    void import("./charts").then((m) => {
      if (cancelled || !el.current) return;
      chart.current = m.drawLive(el.current);
      setReady(true);
    });
    return () => {
      cancelled = true;
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    if (ready) chart.current?.update(points);
  }, [points, ready]);
  return (
    <figure class="chart-figure">
      <figcaption class="sr-only">{label}</figcaption>
      <div class="chart live" ref={el} />
    </figure>
  );
}
