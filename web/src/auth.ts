// Who is signed in, and the ID token every API call carries.
// Locally: a token minted by `farm up`'s loopback-only sign-in route. On Google Cloud: Firebase
// Authentication, whose SDK lives in its own chunk (./firebase) loaded only when it is used.
import { LOCAL_SIGN_IN, usesFirebase } from "./config";
import { store } from "./store";

export interface Session {
  uid: string;
  provider: "local" | "firebase";
  token?: string;
  expiresAt?: number; // ms since the epoch (local tokens)
}

const KEY = "farm.session";
const FIREBASE_FLAG = "farm.firebase";

export const session = store<Session | null>(restore());
/** Why the user was signed out, shown once on the sign-in page. */
export const signOutNotice = store<string | null>(null);

function restore(): Session | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Session | null;
    if (saved?.provider === "local" && saved.token && (saved.expiresAt ?? 0) > Date.now()) return saved;
  } catch {
    // A corrupt entry is the same as none.
  }
  return null;
}

type FirebaseModule = typeof import("./firebase");
let firebase: Promise<FirebaseModule> | null = null;

function loadFirebase(): Promise<FirebaseModule> {
  firebase ??= import("./firebase").then((m) => {
    m.watch((user) => {
      session.set(user ? { uid: user, provider: "firebase" } : null);
      if (user) localStorage.setItem(FIREBASE_FLAG, "1");
      else localStorage.removeItem(FIREBASE_FLAG);
    });
    return m;
  });
  return firebase;
}

// A returning Firebase user: restore their session in the background, after the first paint.
if (usesFirebase && localStorage.getItem(FIREBASE_FLAG)) setTimeout(() => void loadFirebase(), 0);

/** The token for the next call, or null when signed out. */
export async function currentToken(): Promise<string | null> {
  const s = session.get();
  if (!s) return null;
  if (s.provider === "firebase") return (await loadFirebase()).idToken();
  if ((s.expiresAt ?? 0) <= Date.now()) {
    markSignedOut("Your local session expired: sign in again.");
    return null;
  }
  return s.token ?? null;
}

/** Whether `farm up` offers the local sign-in (it answers JSON only on a local, loopback stack). */
export async function localSignInAvailable(): Promise<boolean> {
  try {
    const r = await fetch(LOCAL_SIGN_IN, { headers: { Accept: "application/json" } });
    const type = r.headers.get("Content-Type") ?? "";
    return r.ok && type.includes("application/json") && (await r.json()).available === true;
  } catch {
    return false;
  }
}

/** Sign in as `user` on the local stack; throws an Error with the reason when refused. */
export async function signInLocal(user: string): Promise<void> {
  let r: Response;
  try {
    r = await fetch(LOCAL_SIGN_IN, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user }),
    });
  } catch {
    throw new Error("The Farm's API is unreachable: is `farm up` running?");
  }
  const payload = await r.json().catch(() => null);
  if (!r.ok) throw new Error(payload?.error?.message ?? `sign-in refused (${r.status})`);
  const s: Session = {
    uid: payload.uid,
    provider: "local",
    token: payload.token,
    expiresAt: Date.now() + (payload.expires_in - 30) * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  signOutNotice.set(null);
  session.set(s);
}

/** Sign in with Firebase (Google popup, or email and password). */
export async function signInFirebase(email?: string, password?: string): Promise<void> {
  const m = await loadFirebase();
  const uid = email && password ? await m.signInWithPassword(email, password) : await m.signInWithGoogle();
  signOutNotice.set(null);
  session.set({ uid, provider: "firebase" });
}

/** Forget the session (and sign out of Firebase when it was a Firebase one). */
export async function signOut(): Promise<void> {
  const s = session.get();
  sessionStorage.removeItem(KEY);
  session.set(null);
  if (s?.provider === "firebase") await (await loadFirebase()).signOutUser();
}

/** The API refused the token: drop it and say why. */
export function markSignedOut(reason: string): void {
  sessionStorage.removeItem(KEY);
  signOutNotice.set(reason);
  session.set(null);
}
