// The browser editor's entry point: `/` lists maps, `/m/{mapId}` opens one.
import './app.css';
import { renderList } from './list.js';
import { openEditor } from './editor.js';

const root = document.getElementById('app');
const match = location.pathname.match(/^\/m\/([^/]+)\/?$/);
if (match) openEditor(root, decodeURIComponent(match[1]));
else renderList(root);
