// Build-time configuration: Firebase Auth is used only when the build was given its web config.
export const firebaseConfig = {
  apiKey: import.meta.env.VITE_FIREBASE_API_KEY ?? "",
  authDomain: import.meta.env.VITE_FIREBASE_AUTH_DOMAIN ?? "",
  projectId: import.meta.env.VITE_FIREBASE_PROJECT_ID ?? "",
};

export const usesFirebase = Boolean(firebaseConfig.apiKey && firebaseConfig.projectId);

/** The Firebase Auth emulator ("http://127.0.0.1:9099"), for a site built to develop against it. */
export const authEmulator = import.meta.env.VITE_FIREBASE_AUTH_EMULATOR_HOST ?? "";

/** The local sign-in route `farm up` mounts (local backend, loopback only). */
export const LOCAL_SIGN_IN = "/local/sign-in";
