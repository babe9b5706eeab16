// An API error said plainly; a 429 counts down to when a retry is allowed.
import { useEffect, useState } from "preact/hooks";
import { ApiError, describe } from "../api";

interface Props {
  error: unknown;
  onRetry?: () => void;
}

export function ErrorNotice({ error, onRetry }: Props) {
  const retryAfter = error instanceof ApiError && error.status === 429 ? error.retryAfter ?? 5 : null;
  const [left, setLeft] = useState(retryAfter ?? 0);
  useEffect(() => {
    if (retryAfter === null) return;
    setLeft(retryAfter);
    const started = Date.now();
    const timer = setInterval(() => {
      const remaining = Math.max(0, retryAfter - Math.floor((Date.now() - started) / 1000));
      setLeft(remaining);
      if (!remaining) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [error]);
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
