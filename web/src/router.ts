// Client-side routes on real paths (farm up and Firebase Hosting answer index.html for them).
import { store, useStore } from "./store";

export interface Location {
  path: string;
  query: URLSearchParams;
}

function read(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

export const location = store<Location>(read());

window.addEventListener("popstate", () => location.set(read()));

/** Go to `href` within the site (pushes history unless `replace`). */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  location.set(read());
  window.scrollTo(0, 0);
}

/** Follow same-site links without reloading the page (modifier keys keep browser behaviour). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener("click", (event) => {
    const a = (event.target as HTMLElement).closest("a");
    if (!a || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (a.target || a.hasAttribute("download") || a.origin !== window.location.origin) return;
    if (a.pathname.startsWith("/api/")) return;
    event.preventDefault();
    navigate(a.pathname + a.search);
  });
}

export function useLocation(): Location {
  return useStore(location);
}

/** Match `/agents/:id`-style patterns; the named segments, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/");
  const s = path.replace(/\/+$/, "").split("/");
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}
