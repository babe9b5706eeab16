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
  return (
    <div class="chart" ref={el} role="img" aria-label={label} data-drawn={drawn ? "yes" : "no"} data-testid="equity-chart" />
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
  return <div class="chart live" ref={el} role="img" aria-label={label} />;
}
