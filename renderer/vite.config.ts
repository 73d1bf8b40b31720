/**
 * The renderer build: `vite build --config renderer/vite.config.ts` writes dist/renderer,
 * which the desktop window loads from app://relaydeck/ and the admin port serves to browsers
 * (electron/engine/cli.ts builtUiDir()). `base: './'` keeps every asset URL relative so both work.
 */
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // Maps are not shipped (the package holds no sources).
    sourcemap: false,
    // Chromium only (Electron's and the operator's browser); no modulepreload polyfill script.
    modulePreload: { polyfill: false },
    // hls.js (about 580 kB) is its own chunk, loaded only when an HLS preview opens.
    chunkSizeWarningLimit: 700,
  },
});
