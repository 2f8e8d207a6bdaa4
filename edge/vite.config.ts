// Build of the edge UI: static files in dist/edge that the gateway serves; JSX compiled for preact.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  // Vite 8 transforms TS/JSX with oxc (not esbuild): the automatic runtime imports preact/jsx-runtime.
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: '../dist/edge',
    emptyOutDir: true,
    // The gate-house PC runs a current Chromium; no legacy transpile needed.
    target: 'es2022',
  },
  server: {
    // `vite --config edge/vite.config.ts` during development: forward the API to a running gateway.
    proxy: {
      '/api': { target: process.env.GUARDPOST_GATEWAY ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
});
