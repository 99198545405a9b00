// The browser editor's entry point: `/` lists maps, `/m/{mapId}` opens one.
import './app.css';
import { renderList } from './list.js';
import { openEditor } from './editor.js';

const root = document.getElementById('app');
const match = location.pathname.match(/^\/m\/([^/]+)\/?$/);
if (match) openEditor(root, decodeURIComponent(match[1]));
else renderList(root);

// Keeps the page and its assets for offline use (sw.js); where workers are unavailable (an
// insecure origin, a private window, an old browser) the editor works as before, online only.
navigator.serviceWorker?.register('/sw.js').catch(() => {});
