// Vite builds the site into dist/, which `farm up` serves at / and Firebase Hosting deploys.
// No framework plugin: esbuild compiles the JSX for Preact directly.
import { defineConfig } from "vite";

const api = process.env.FARM_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    target: "es2020",
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // The budget test (tests/e2e/web) holds the gzipped total; this only warns earlier.
    chunkSizeWarningLimit: 400,
  },
  // `npm run dev` talks to a running `farm up` on the same origin through this proxy.
  server: {
    proxy: { "/api": api, "/healthz": api, "/local": api },
  },
});
