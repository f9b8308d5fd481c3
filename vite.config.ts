import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';

/**
 * Social previews need an absolute og:image URL. The deploy sets VITE_SITE_URL (the hosted
 * address); without it the image stays relative, which some previewers also accept.
 */
function absoluteOgImage(): Plugin {
  return {
    name: 'grokscope-og-image',
    transformIndexHtml(html) {
      const site = process.env.VITE_SITE_URL;
      if (!site) return html;
      return html.replace('<meta property="og:image" content="og.png" />', `<meta property="og:image" content="${new URL('og.png', site).href}" />`);
    },
  };
}

export default defineConfig({
  // Relative base: the built site works under any path (GitHub Pages project sites included).
  base: './',
  plugins: [react(), absoluteOgImage()],
  worker: { format: 'es' },
  optimizeDeps: {
    include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-cpu'],
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  preview: { host: '127.0.0.1' },
  server: { host: '127.0.0.1' },
  test: {
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Unit tests first, then the browser tests alone: they time the page's main thread.
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          sequence: { groupOrder: 1 },
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/setup.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
