import { defineConfig } from 'vitest/config';

// Output goes to webapp/static so `rxgen serve` ships it without Node. Names carry no content
// hash: the bundle is committed and must rebuild byte-identically, and the server sets the
// cache headers itself (index.html revalidates, assets are fingerprinted by the server's ETag).
export default defineConfig({
  root: '.',
  base: '/static/',
  build: {
    outDir: '../static',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // A strict CSP forbids inline scripts/styles and data: URLs for scripts: always emit files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/app.js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: 'assets/[name][extname]',
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
