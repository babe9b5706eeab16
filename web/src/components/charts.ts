// Chart drawing with lightweight-charts, kept out of the first load (imported on demand).
import {
  AreaSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  LineSeries,
  LineStyle,
  type IChartApi,
  type SeriesMarker,
  type UTCTimestamp,
} from "lightweight-charts";

export interface Point {
  time: number; // seconds since the epoch
  value: number;
}

export interface Marker {
  time: number;
  above: boolean;
  text: string;
}

export interface EquitySpec {
  equity: Point[];
  benchmark?: Point[];
  drawdown?: Point[];
  markers?: Marker[];
}

/** The equity line's colour: the browser test looks for its pixels on the canvas. */
export const EQUITY_COLOR = "#1d4ed8";

function clean(points: Point[]): { time: UTCTimestamp; value: number }[] {
  // lightweight-charts needs strictly increasing times: keep the last value of each second.
  const byTime = new Map<number, number>();
  for (const p of points) if (Number.isFinite(p.value)) byTime.set(p.time, p.value);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ time: t as UTCTimestamp, value: v }));
}

function base(el: HTMLElement, height: number): IChartApi {
  return createChart(el, {
    height,
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: "#ffffff" },
      textColor: "#1f2937",
      fontFamily: "system-ui, sans-serif",
      panes: { separatorColor: "#d1d5db" },
    },
    grid: { vertLines: { color: "#f3f4f6" }, horzLines: { color: "#f3f4f6" } },
    rightPriceScale: { borderColor: "#d1d5db" },
    timeScale: { borderColor: "#d1d5db", timeVisible: true },
  });
}

/** Draw equity (and benchmark, trade markers) with drawdown in a pane below; returns a disposer. */
export function drawEquity(el: HTMLElement, spec: EquitySpec): () => void {
  const chart = base(el, 380);
  // No last-value label or price line in the equity colour: its pixels are the line alone.
  const equity = chart.addSeries(LineSeries, {
    color: EQUITY_COLOR, lineWidth: 2, title: "Equity", lastValueVisible: false, priceLineVisible: false,
  });
  const data = clean(spec.equity);
  equity.setData(data);
  if (spec.benchmark?.length) {
    chart
      .addSeries(LineSeries, { color: "#6b7280", lineWidth: 1, lineStyle: LineStyle.Dashed, title: "Benchmark" })
      .setData(clean(spec.benchmark));
  }
  if (spec.markers?.length) {
    const times = new Set(data.map((d) => d.time as number));
    const markers: SeriesMarker<UTCTimestamp>[] = spec.markers
      .filter((m) => times.has(m.time))
      .sort((a, b) => a.time - b.time)
      .map((m) => ({
        time: m.time as UTCTimestamp,
        position: m.above ? "aboveBar" : "belowBar",
        color: m.above ? "#b91c1c" : "#15803d",
        shape: m.above ? "arrowDown" : "arrowUp",
        // Labels only when they can be read; a busy run keeps its arrows.
        text: spec.markers!.length <= 30 ? m.text : undefined,
      }));
    createSeriesMarkers(equity, markers);
  }
  if (spec.drawdown?.length) {
    const dd = chart.addSeries(
      AreaSeries,
      { lineColor: "#b91c1c", topColor: "rgba(185,28,28,0.05)", bottomColor: "rgba(185,28,28,0.35)", lineWidth: 1,
        title: "Drawdown", priceFormat: { type: "percent" } },
      1,
    );
    dd.setData(clean(spec.drawdown).map((p) => ({ ...p, value: -100 * Math.abs(p.value) })));
    chart.panes()[1]?.setHeight(110);
  }
  chart.timeScale().fitContent();
  return () => chart.remove();
}

/** Draw one live value line (paper trading); returns an updater and a disposer. */
export function drawLive(el: HTMLElement): { update(points: Point[]): void; dispose(): void } {
  const chart = base(el, 220);
  const line = chart.addSeries(LineSeries, { color: EQUITY_COLOR, lineWidth: 2, title: "Value" });
  return {
    update(points) {
      line.setData(clean(points));
      chart.timeScale().fitContent();
    },
    dispose: () => chart.remove(),
  };
}
