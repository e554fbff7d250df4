// Bundles www/bundled/ into out/bundled/ (the wasm file becomes a hashed asset).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../out/bundled', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
