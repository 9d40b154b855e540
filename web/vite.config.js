// Vite build for the HPF online hall. Output: web/dist (index.html + hashed files in assets/).
// No source maps, no inline scripts, no module-preload polyfill: the page must run under
// CSP "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'".
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// `npm run dev` proxies /api to a running hpf (default https://127.0.0.1:8443).
const apiTarget = process.env.HPF_API || 'https://127.0.0.1:8443'

export default defineConfig({
  base: '/',
  plugins: [vue()],
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2020',
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: apiTarget, secure: false, changeOrigin: false } },
  },
})
