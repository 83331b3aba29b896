import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import { resolve } from 'node:path';

// src-shared is what both sides import (contract, schemas, paper numbers): one alias for every bundle.
const alias = { '@shared': resolve('src-shared') };

export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve('src-main/electron/main.ts'),
          worker: resolve('src-main/runner/worker.ts'),
          cli: resolve('src-main/cli/index.ts'),
        },
      },
    },
  },
  preload: {
    resolve: { alias },
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve('src-main/electron/preload.ts') },
        // A sandboxed preload must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src-renderer'),
    resolve: { alias },
    plugins: [vue()],
    build: {
      outDir: resolve('out/renderer'),
      // Vite 8 bundles with Rolldown: rolldownOptions, and output.codeSplitting groups in place of manualChunks.
      rolldownOptions: {
        input: resolve('src-renderer/index.html'),
        output: {
          // The libraries change less often than the app: their own chunks (ECharts, its zrender, Vue).
          codeSplitting: {
            groups: [
              // A group takes its modules' dependencies along: zrender goes first so ECharts leaves it alone.
              { name: 'zrender', test: /node_modules[\\/]zrender[\\/]/, priority: 3 },
              { name: 'echarts', test: /node_modules[\\/]echarts[\\/]/, priority: 2 },
              { name: 'vue', test: /node_modules[\\/](@vue|vue)[\\/]/, priority: 1 },
            ],
          },
        },
      },
      // electron-vite leaves the renderer unminified by default; minified, every chunk is under Vite's
      // default warning size (500 kB).
      minify: true,
    },
  },
});
