// The editor's service worker: keeps the editor's page and assets so a map seen before opens
// without a network. (The map's content is kept by the page itself, in IndexedDB.)
//
// Network first, the cache only when the network fails: the server answers `no-cache` with an
// ETag, so an online load revalidates and a new server version shows on the next load. Nothing
// else is touched: the API and the WebSocket carry the caller's data under their token, and go
// to the server or nowhere.

const CACHE = 'waymark-editor-1';
const PAGE = '/';
const SHELL = [PAGE, '/assets/app.js', '/assets/app.css'];

/** The key a request is kept under: every editor page is the same `index.html`; null: not kept. */
function keyOf(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (url.pathname === '/' || /^\/m\/[^/]+\/?$/.test(url.pathname)) return PAGE;
  if (SHELL.includes(url.pathname)) return url.pathname;
  return null;
}

self.addEventListener('install', (event) => {
  // Kept at once, so a page that registered the worker opens offline even if it never loads again
  // online. A failure here (offline already) leaves the cache to fill on the next loads.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).catch(() => {}).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(key, response.clone());
      return response;
    }
    // An error page from a proxy in front of a restarting server: the last good copy is better.
    return (await cache.match(key)) ?? response;
  } catch (e) {
    const kept = await cache.match(key);
    if (kept) return kept;
    throw e;
  }
}

self.addEventListener('fetch', (event) => {
  const key = keyOf(event.request);
  if (key) event.respondWith(networkFirst(event.request, key));
});
