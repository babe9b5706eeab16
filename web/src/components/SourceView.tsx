// The uploaded source with each validation finding shown on its line, its column marked.
import type { JSX } from "preact";
import type { Finding } from "../api";

interface Props {
  file: string;
  source: string;
  findings: Finding[];
}

export function SourceView({ file, source, findings }: Props) {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const byLine = new Map<number, Finding[]>();
  for (const f of findings) {
    if (f.line) byLine.set(f.line, [...(byLine.get(f.line) ?? []), f]);
  }
  // Long files: show the lines around each finding rather than everything.
  const shown = new Set<number>();
  if (lines.length <= 400) lines.forEach((_, i) => shown.add(i + 1));
  else for (const n of byLine.keys()) for (let i = n - 5; i <= n + 5; i++) if (i >= 1 && i <= lines.length) shown.add(i);
  const rows: JSX.Element[] = [];
  let last = 0;
  for (let n = 1; n <= lines.length; n++) {
    if (!shown.has(n)) continue;
    if (n > last + 1) rows.push(<div class="src-gap" key={`gap${n}`}>⋯</div>);
    last = n;
    const here = byLine.get(n) ?? [];
    const text = lines[n - 1];
    const col = here[0]?.col ?? null;
    rows.push(
      <div class={`src-line${here.length ? " has-finding" : ""}`} key={n} data-line={n} id={here.length ? `${file}-L${n}` : undefined}>
        <span class="src-no" aria-hidden="true">{n}</span>
        <code class="src-code">
          {col && col >= 1 ? (
            <>
              {text.slice(0, col - 1)}
              <mark class="src-col" data-col={col}>{text.slice(col - 1, col) || " "}</mark>
              {text.slice(col)}
            </>
          ) : (
            text || " "
          )}
        </code>
      </div>,
    );
    for (const f of here) {
      rows.push(
        <div class={`src-finding ${f.severity}`} key={`f${n}-${f.code}-${f.col}`} role="note" data-line={n} data-code={f.code}>
          <span class="sr-only">{`Line ${n}${f.col ? `, column ${f.col}` : ""}: `}</span>
          {f.col ? <span aria-hidden="true">{`${" ".repeat(Math.max(0, f.col - 1))}^ `}</span> : null}
          <strong>{f.severity}</strong> {f.code}: {f.message}
          <span class="muted">{` (line ${n}${f.col ? `, col ${f.col}` : ""})`}</span>
        </div>,
      );
    }
  }
  const unplaced = findings.filter((f) => !f.line);
  return (
    <figure class="source" aria-label={`${file} with validation findings`}>
      <figcaption>{file}</figcaption>
      {unplaced.length > 0 && (
        <ul class="findings-unplaced">
          {unplaced.map((f) => (
            <li key={f.code + f.message}>
              <strong>{f.severity}</strong> {f.code}: {f.message}
            </li>
          ))}
        </ul>
      )}
      <div class="src-body" tabIndex={0} role="region" aria-label={`Source of ${file}`}>{rows}</div>
    </figure>
  );
}
