// Drag-and-drop upload of an agent (.py or .zip, plus requirements.txt); findings shown on the source.
import { useRef, useState } from "preact/hooks";
import { api, ApiError, type ValidationReport } from "../api";
import { ErrorNotice } from "./ErrorNotice";
import { SourceView } from "./SourceView";

interface Picked {
  agent: File | null;
  requirements: File | null;
}

interface Rejected {
  report: ValidationReport;
  sources: Record<string, string>;
}

const MAX_BYTES = 10 * 1024 * 1024;

function classify(files: File[], prev: Picked): Picked {
  const next = { ...prev };
  for (const f of files) {
    const name = f.name.toLowerCase();
    if (name.endsWith(".py") || name.endsWith(".zip")) next.agent = f;
    else if (name.endsWith(".txt")) next.requirements = f;
  }
  return next;
}

/** The text of every file the findings name: the .py itself, or the members of the .zip. */
async function sourcesOf(file: File, report: ValidationReport): Promise<Record<string, string>> {
  if (!file.name.toLowerCase().endsWith(".zip")) {
    const name = report.findings.find((f) => f.file)?.file ?? "agent.py";
    return { [name]: await file.text() };
  }
  const { unzipSync, strFromU8 } = await import("fflate");
  const wanted = new Set(report.findings.map((f) => f.file).filter(Boolean) as string[]);
  const members = unzipSync(new Uint8Array(await file.arrayBuffer()), { filter: (m) => wanted.has(m.name) });
  return Object.fromEntries(Object.entries(members).map(([k, v]) => [k, strFromU8(v)]));
}

interface Props {
  onSubmitted: (agentId: string) => void;
  onStart?: () => void;
}

export function Uploader({ onSubmitted, onStart }: Props) {
  const [picked, setPicked] = useState<Picked>({ agent: null, requirements: null });
  const [name, setName] = useState("");
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [rejected, setRejected] = useState<Rejected | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const formEl = useRef<HTMLFormElement>(null);

  const take = (files: File[]) => {
    setRejected(null);
    setError(null);
    const unknown = files.filter((f) => !/\.(py|zip|txt)$/i.test(f.name)).map((f) => f.name);
    setProblem(unknown.length
      ? `${unknown.join(", ")}: not an agent. Drop a .py or .zip file (and optionally requirements.txt).`
      : null);
    setPicked(classify(files, picked));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!picked.agent) {
      setProblem("Choose the agent's .py or .zip file first.");
      return;
    }
    if (picked.agent.size > MAX_BYTES) {
      setProblem("That file is over 10 MB, the upload limit.");
      return;
    }
    setBusy(true);
    setError(null);
    setRejected(null);
    setProblem(null);
    onStart?.();
    const form = new FormData();
    form.set("file", picked.agent, picked.agent.name);
    if (picked.requirements) form.set("requirements.txt", picked.requirements, "requirements.txt");
    if (name.trim()) form.set("name", name.trim());
    try {
      const created = await api<{ agent_id: string }>("/api/agents", { method: "POST", form });
      setPicked({ agent: null, requirements: null });
      setName("");
      formEl.current?.reset(); // the file inputs too, so the same file can be chosen again
      onSubmitted(created.agent_id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.details) {
        const report = err.details as ValidationReport;
        setRejected({ report, sources: await sourcesOf(picked.agent, report).catch(() => ({})) });
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="upload" ref={formEl} onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Upload an agent</h2>
      <div
        class={`drop${over ? " over" : ""}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          take([...(e.dataTransfer?.files ?? [])]);
        }}
      >
        <p>Drop a <code>.py</code> or <code>.zip</code> here, with an optional <code>requirements.txt</code>, or choose files:</p>
        <div class="row">
          <label>
            Agent file (.py or .zip)
            <input type="file" name="file" accept=".py,.zip" onChange={(e) => take([...(e.currentTarget.files ?? [])])} />
          </label>
          <label>
            requirements.txt (optional)
            <input type="file" name="requirements" accept=".txt" onChange={(e) => take([...(e.currentTarget.files ?? [])])} />
          </label>
        </div>
        <p class="picked" aria-live="polite">
          {picked.agent ? <>Agent: <strong>{picked.agent.name}</strong> ({Math.ceil(picked.agent.size / 1024)} KB)</> : "No agent file chosen."}
          {picked.requirements && <> · Requirements: <strong>{picked.requirements.name}</strong></>}
        </p>
      </div>
      <label>
        Name (optional)
        <input name="name" value={name} maxLength={100} placeholder="defaults to the file name" onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy}>{busy ? "Validating…" : "Upload and validate"}</button>
      {problem && <div class="notice error" role="alert">{problem}</div>}
      <ErrorNotice error={error} />
      {rejected && (
        <div class="findings" data-testid="findings">
          <h3>{rejected.report.error_count} validation error{rejected.report.error_count === 1 ? "" : "s"}</h3>
          {Object.entries(rejected.sources).map(([file, text]) => (
            <SourceView key={file} file={file} source={text} findings={rejected.report.findings.filter((f) => (f.file ?? file) === file)} />
          ))}
          {Object.keys(rejected.sources).length === 0 && (
            <ul>
              {rejected.report.findings.map((f, i) => (
                <li key={i}>{f.file}:{f.line}:{f.col} {f.code}: {f.message}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  );
}
