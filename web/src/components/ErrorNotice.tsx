// An API error said plainly; a 429 counts down to when a retry is allowed.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, describe } from "../api";

interface Props {
  error: unknown;
  onRetry?: () => void;
}

export function ErrorNotice({ error, onRetry }: Props) {
  const retryAfter = error instanceof ApiError && error.status === 429 ? error.retryAfter ?? 5 : null;
  // The moment a retry is allowed, fixed when the error arrives; the countdown ticks to it.
  const until = useMemo(() => (retryAfter === null ? 0 : Date.now() + retryAfter * 1000), [error]);
  const [, tick] = useState(0);
  useEffect(() => {
    if (!until) return;
    const timer = setInterval(() => {
      tick((n) => n + 1);
      if (Date.now() >= until) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [until]);
  const left = until ? Math.max(0, Math.ceil((until - Date.now()) / 1000)) : 0;
  if (!error) return null;
  const status = error instanceof ApiError ? error.status : null;
  const message =
    retryAfter !== null
      ? left > 0
        ? `Too many requests. You can try again in ${left} s.`
        : "Too many requests. You can try again now."
      : describe(error);
  return (
    <div class="notice error" role="alert" data-status={status ?? ""}>
      <p>{message}</p>
      {status === 401 && (
        <p>
          <a href={`/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`}>
            Sign in
          </a>
        </p>
      )}
      {onRetry && status !== 401 && (
        <button type="button" onClick={onRetry} disabled={left > 0}>
          Try again
        </button>
      )}
    </div>
  );
}
