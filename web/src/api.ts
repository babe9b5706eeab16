// The HTTP API client: same origin, ID token on every call, errors said plainly.
import { currentToken, markSignedOut } from "./auth";

export interface Finding {
  code: string;
  message: string;
  file: string | null;
  line: number | null;
  col: number | null;
  severity: "error" | "warning";
}

export interface ValidationReport {
  ok: boolean;
  code_hash?: string | null;
  files?: string[];
  error_count: number;
  findings: Finding[];
}

/** A refused or failed call: the HTTP status (0 when the API could not be reached). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  query?: Record<string, string | number | undefined | null>;
  headers?: Record<string, string>;
  auth?: boolean;
  signal?: AbortSignal;
}

/** The path with its query string; empty values are left out. */
export function withQuery(path: string, query?: CallOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Call the API and return the raw response once it is a 2xx; ApiError otherwise. */
export async function request(path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  const sentToken = opts.auth === false ? null : await currentToken();
  if (sentToken) headers["Authorization"] = `Bearer ${sentToken}`;
  let response: Response;
  try {
    response = await fetch(withQuery(path, opts.query), {
      method: opts.method ?? "GET",
      headers,
      body,
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "unreachable", "The Farm's API cannot be reached.");
  }
  if (response.ok) return response;
  const error = await errorFrom(response);
  if (response.status === 401 && sentToken) markSignedOut("Your session ended: sign in again.");
  throw error;
}

/** Call the API and decode its JSON answer (undefined for 204). */
export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const response = await request(path, opts);
  if (response.status === 204) return undefined as T;
  if (!(response.headers.get("Content-Type") ?? "").includes("json")) {
    // e.g. Hosting's fallback page for a path no function serves.
    throw new ApiError(404, "not_found", `The API has no route ${path}.`);
  }
  return (await response.json()) as T;
}

async function errorFrom(response: Response): Promise<ApiError> {
  const retry = Number(response.headers.get("Retry-After"));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : null;
  try {
    const payload = await response.json();
    const e = payload?.error;
    if (e && typeof e.message === "string") {
      return new ApiError(response.status, String(e.code ?? ""), e.message, e.details ?? null, retryAfter);
    }
  } catch {
    // Not the API's JSON envelope (a proxy or an HTML page): fall through to the status text.
  }
  return new ApiError(response.status, "http_" + response.status, response.statusText || "error", null, retryAfter);
}

/** What a person should read for an error: the cause and what to do, without jargon. */
export function describe(err: unknown): string {
  if (!(err instanceof ApiError)) return `Something went wrong: ${String((err as Error)?.message ?? err)}`;
  switch (err.status) {
    case 0:
      return "The Farm's API is unreachable. Check your connection; locally, is `farm up` running?";
    case 401:
      return "You are signed out, or your session expired. Sign in to continue.";
    case 403:
      return "You are not allowed to do that.";
    case 404:
      return `Not found. ${err.message}`;
    case 409: {
      const agent = (err.details as { agent_id?: string } | null)?.agent_id;
      return agent
        ? `This exact code was already submitted as agent ${agent}.`
        : `Conflict: ${err.message}`;
    }
    case 413:
      return "The upload is too large: an agent must be at most 10 MB.";
    case 415:
      return "That file type is not accepted: upload a .py file or a .zip bundle.";
    case 422:
      return "The agent failed validation: see the findings below.";
    case 429:
      return `Too many requests. Try again in ${err.retryAfter ?? "a few"} seconds.`;
    case 503:
      return "A backing service is briefly unavailable. Try again in a moment.";
    default:
      return `${err.status >= 500 ? "The server failed" : "The request was refused"}: ${err.message}`;
  }
}
