/*
 * grokscope's service worker, for static hosts that send no headers (GitHub Pages): it adds the
 * cross-origin isolation headers to this site's own responses, so the page may use
 * SharedArrayBuffer and tfjs runs its threaded WebAssembly. It touches nothing else: requests to
 * other origins pass by untouched (the page makes none), nothing is cached, nothing is fetched
 * that the page did not ask for. src/client/isolation.ts registers it.
 */
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return;
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(
    fetch(request).then((response) => {
      // Opaque redirects and errors go back as they came.
      if (response.status === 0 || response.type === 'opaqueredirect') return response;
      const headers = new Headers(response.headers);
      headers.set('Cross-Origin-Opener-Policy', 'same-origin');
      headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
      headers.set('Cross-Origin-Resource-Policy', 'same-origin');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
