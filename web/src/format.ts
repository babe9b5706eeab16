// Number and time formatting shared by the pages.
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function usd(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : money.format(v);
}

export function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(digits)}%`;
}

export function num(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function day(iso: string | null | undefined): string {
  return iso ? when(iso).slice(0, 10) : "—";
}

/** "12 s ago" style age of a timestamp relative to `now` (ms). */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** Seconds since the epoch, as lightweight-charts wants its times. */
export function epoch(iso: string): number {
  return Math.floor(new Date(iso).getTime() / 1000);
}
