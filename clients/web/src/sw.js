// The editor's service worker: keeps the editor's page and assets so a map seen before opens
// without a network. (The map's content is kept by the page itself, in IndexedDB.)
self.addEventListener('install', () => self.skipWaiting());
