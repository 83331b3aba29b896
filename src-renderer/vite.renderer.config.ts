// Builds only the renderer into out/renderer (same settings as electron.vite.config.ts's renderer section),
// for when the main process does not build: npx vite build --config src-renderer/vite.renderer.config.ts
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { resolve } from 'node:path';

export default defineConfig({
  root: resolve(import.meta.dirname),
  base: './',
  plugins: [vue()],
  build: {
    outDir: resolve(import.meta.dirname, '../out/renderer'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
});
