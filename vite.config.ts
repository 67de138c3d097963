/**
 * Vite build of the owner console's page (`web/console/`) into `dist/console/`: every asset bundled, no CDN,
 * relative URLs so the console server can serve it from any port. Run by `npm run build` (`vite build`).
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("./web/console", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("./dist/console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0,
  },
});
