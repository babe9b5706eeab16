// Sign in: the local stack's loopback sign-in, or Firebase Authentication on Google Cloud.
import { useEffect, useState } from "preact/hooks";
import { localSignInAvailable, session, signInFirebase, signInLocal, signOutNotice } from "../auth";
import { usesFirebase } from "../config";
import { useTitle } from "../hooks";
import { navigate, useLocation } from "../router";
import { useStore } from "../store";

export function SignInPage() {
  useTitle("Sign in");
  const loc = useLocation();
  const user = useStore(session);
  const notice = useStore(signOutNotice);
  const [local, setLocal] = useState<boolean | null>(usesFirebase ? false : null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(loc.query.get("next"));
  useEffect(() => {
    if (!usesFirebase) void localSignInAvailable().then(setLocal);
  }, []);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      navigate(next);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      {notice && <div class="notice warn" role="status">{notice}</div>}
      {user && <p>You are signed in as <strong>{user.uid}</strong>. <a href="/agents">Go to your agents</a>.</p>}
      {error && <div class="notice error" role="alert">{error}</div>}
      {usesFirebase && <FirebaseForm busy={busy} run={run} />}
      {!usesFirebase && local === null && <p aria-busy="true">Checking how to sign in…</p>}
      {!usesFirebase && local === true && <LocalForm busy={busy} run={run} />}
      {!usesFirebase && local === false && (
        <div class="notice error" role="alert">
          No sign-in is available here: this site was built without a Firebase configuration, and the local
          sign-in of <code>farm up</code> does not answer (it exists only on a local stack reached over loopback).
        </div>
      )}
    </section>
  );
}

function safeNext(next: string | null): string {
  // Only paths on this site: never an open redirect.
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/agents";
}

type Run = (fn: () => Promise<void>) => Promise<void>;

function LocalForm({ busy, run }: { busy: boolean; run: Run }) {
  const [name, setName] = useState("alice");
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => signInLocal(name.trim()));
      }}
    >
      <p>
        This is a local stack (<code>farm up</code>): pick any user name. The token comes from the stack's own signing
        key, exactly as <code>farm token --user NAME</code> makes it.
      </p>
      <label>
        User name
        <input name="user" value={name} required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" autoComplete="username"
          onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy}>Sign in locally</button>
    </form>
  );
}

function FirebaseForm({ busy, run }: { busy: boolean; run: Run }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  return (
    <div class="stack">
      <button type="button" disabled={busy} onClick={() => void run(() => signInFirebase())}>Sign in with Google</button>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => signInFirebase(email, password));
        }}
      >
        <label>
          Email
          <input type="email" required value={email} autoComplete="email" onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input type="password" required value={password} autoComplete="current-password"
            onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>Sign in with email</button>
      </form>
    </div>
  );
}
