// Firebase Authentication, in its own chunk: only loaded when the build is configured for it.
import { initializeApp } from "@firebase/app";
import {
  GoogleAuthProvider,
  connectAuthEmulator,
  getAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signInWithPopup,
  signOut,
} from "@firebase/auth";
import { authEmulator, firebaseConfig } from "./config";

const auth = getAuth(initializeApp(firebaseConfig));
if (authEmulator) connectAuthEmulator(auth, authEmulator, { disableWarnings: true });

/** Call `listener` with the signed-in uid (or null) now and on every change. */
export function watch(listener: (uid: string | null) => void): void {
  onAuthStateChanged(auth, (user) => listener(user?.uid ?? null));
}

/** The current user's ID token (refreshed by the SDK when it is about to expire). */
export async function idToken(): Promise<string | null> {
  await auth.authStateReady();
  return auth.currentUser ? auth.currentUser.getIdToken() : null;
}

export async function signInWithGoogle(): Promise<string> {
  return (await signInWithPopup(auth, new GoogleAuthProvider())).user.uid;
}

export async function signInWithPassword(email: string, password: string): Promise<string> {
  return (await signInWithEmailAndPassword(auth, email, password)).user.uid;
}

export async function signOutUser(): Promise<void> {
  await signOut(auth);
}
