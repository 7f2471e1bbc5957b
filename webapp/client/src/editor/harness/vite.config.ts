// Builds the editor harness page alone (not part of the app build):
//   npx vite build --config src/editor/harness/vite.config.ts
// then serve /tmp/rx-editor-harness over HTTP and open harness/index.html.
import { defineConfig } from "vite";

// URL paths rather than node:path, so that this file type-checks with the browser libraries only.
const root = decodeURIComponent(new URL("../../..", import.meta.url).pathname);

export default defineConfig({
  root,
  base: "/",
  build: {
    outDir: "/tmp/rx-editor-harness",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: { input: decodeURIComponent(new URL("./index.html", import.meta.url).pathname) },
  },
});
