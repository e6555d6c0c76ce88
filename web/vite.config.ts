/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// The edge serves dist/ under a strict CSP (script-src 'self', style-src 'self'):
// no inline scripts, no inline <style>, CSS in files only.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    // Two pages: the dashboard (index.html) and the API reference (docs.html, /api/docs/).
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        docs: fileURLToPath(new URL('./docs.html', import.meta.url)),
      },
    },
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api': process.env.SW_API_ORIGIN ?? 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
    // Six people share a 2-core machine while this runs: the default 5 s per test is too tight
    // under that load (the tests assert what the user sees, never how fast).
    testTimeout: 20_000,
  },
});
