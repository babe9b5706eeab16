// Marks when a page first shows its data, read by the browser tests and benchmarks.
declare global {
  interface Window {
    __farmReady?: Record<string, number>;
  }
}

export function markReady(what: string): void {
  window.__farmReady ??= {};
  if (window.__farmReady[what] === undefined) {
    window.__farmReady[what] = performance.now();
    performance.mark(`farm:${what}`);
  }
}
