// The editor page at `/m/{mapId}`: the top bar, the grid, the side panels, and the editor object
// (`ed`) through which they read the map and change it.
import * as Y from 'yjs';
import { h, toast, confirmDialog, promptDialog } from './dom.js';
import { api, claims, explain, role, roleAtLeast } from './api.js';
import * as M from './model.js';
import { Session, rememberName } from './session.js';
import { Board } from './board.js';
import { Presence } from './presence.js';
import { renderDetails, renderPersonas } from './inspector.js';
import { renderInsights } from './insights.js';
import { renderVersions } from './versions.js';
import { renderComments } from './comments.js';
import { exportMenu } from './exportmenu.js';
import { Follow } from './follow.js';
import { Strip } from './wsstrip.js';
import { addPrivateCard, decorateBoard } from './wsboard.js';
import { renderWorkshopPanel } from './facilitate.js';
import { Zoom } from './zoom.js';
import { Filters } from './filters.js';
import { Search } from './search.js';
import { Minimap } from './minimap.js';
import { decorateSpans, installSpans, movedEnd } from './spans.js';
import { replaceKeepingFocus } from './panelkeep.js';
import { decorateComments } from './commentbadges.js';
import { bindText } from './textbind.js';
import { Aware } from './aware.js';
import { clearLocalCopy, hasLocalCopy } from './localcopy.js';
import { renderSaved, savedNote } from './saved.js';
import { renderChannels } from './channelspanel.js';

const MAP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export async function openEditor(root, mapId) {
  document.title = `${mapId} · Waymark`;
  if (!MAP_ID.test(mapId)) return fail(root, `“${mapId}” is not a map id: ids are letters, digits, “.”, “_” and “-”.`);
  let found;
  try {
    found = await api(`/maps/${encodeURIComponent(mapId)}`);
  } catch (e) {
    if (e.status === 404) {
      await clearLocalCopy(mapId); // the map was deleted while this device was away
      return missing(root, mapId);
    }
    if (e.status === 401 || e.status === 403) return fail(root, explain(e));
    // Out of reach: the copy on this device, if there is one, opens and waits for the server.
    if (e.status !== 0 || !roleAtLeast('editor') || !(await hasLocalCopy(mapId))) return fail(root, `The map could not be opened: ${explain(e)}`);
  }
  new Editor(root, mapId, { verified: !!found, createdAt: found?.map?.meta?.createdAt ?? null });
}

function fail(root, message) {
  root.replaceChildren(h('main', { class: 'page-message' },
    h('h1', { text: 'Cannot open this map' }), h('p', { text: message, dataset: { testid: 'page-error' } }),
    h('p', {}, h('a', { href: '/', text: '← All maps' }))));
}

function missing(root, mapId) {
  const create = roleAtLeast('editor') && h('button', {
    class: 'primary', text: `Create “${mapId}”`, onclick: async () => {
      try {
        await api('/maps', { method: 'POST', body: { id: mapId, title: mapId } });
        location.reload();
      } catch (e) {
        toast(e.message, 'error');
      }
    },
  });
  root.replaceChildren(h('main', { class: 'page-message' },
    h('h1', { text: 'No such map' }), h('p', { dataset: { testid: 'page-error' }, text: `There is no map “${mapId}” on this server.` }),
    h('p', {}, create, ' ', h('a', { href: '/', text: '← All maps' }))));
}

class Editor {
  constructor(root, mapId, found = {}) {
    this.mapId = mapId;
    this.readOnly = !roleAtLeast('editor');
    this.session = new Session(mapId, found);
    this.doc = this.session.doc;
    this.map = M.readMap(this.doc);
    this.selection = null;
    this.panel = 'details';
    this.afterRenderQueue = [];
    this.board = new Board(this);
    installSpans(this);
    this.presence = new Presence(this);
    this.workshop = this.session.workshop;
    this.zoom = new Zoom(this);
    this.follow = new Follow(this);
    this.filters = new Filters(this, () => this.search.refresh());
    this.search = new Search(this, this.filters);
    this.minimap = new Minimap(this);
    this.zoom.on(() => {
      this.minimap.frame();
      this.presence.renderCursors(this.presence.others());
    });
    this.strip = new Strip(this);
    this.toast = toast;
    this.aware = new Aware(this);
    this.buildPage(root);
    // The workshop's state is not in the document: a new one redraws what shows it.
    this.workshop.on((kind) => {
      if (kind === 'state') this.schedule();
    });
    // Someone typing changes one card's text: that is redrawn alone; anything else reads the map again.
    this.dirty = { full: true, texts: new Set() };
    this.doc.on('afterTransaction', (tr) => this.noteChanged(tr));
    this.doc.on('update', () => this.schedule(false));
    window.addEventListener('beforeunload', (e) => {
      // The browser asks before edits are thrown away: not when they wait on this device.
      if (this.unsent && !(this.session.local?.loaded && this.session.local.safe)) e.preventDefault();
    });
    this.session.onState(() => this.renderStatus());
    this.session.undo.on('stack-item-added', () => this.renderUndo());
    this.session.undo.on('stack-item-popped', () => this.renderUndo());
    document.addEventListener('keydown', (e) => this.globalKey(e));
    // Alt+Enter on a card or header shows its details, the panel closed or not (Enter writes on it).
    this.board.grid.addEventListener('keydown', (e) => {
      const el = e.altKey && e.key === 'Enter' && !e.target.matches('input, textarea, select') && e.target.closest('.card[data-id], .step-head[data-id], .stage-head[data-id], .lane-head[data-id]');
      if (!el) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      const collection = el.classList.contains('card') ? 'cards' : el.classList.contains('step-head') ? 'steps' : el.classList.contains('stage-head') ? 'stages' : 'lanes';
      this.select(collection, el.dataset.id);
      if (this.panel !== 'details') this.openPanel('details');
    }, true);
    window.addEventListener('resize', () => this.schedule());
    window.waymarkEditor = this; // for the end-to-end tests and the curious: the live document
    this.renderStatus();
    this.render();
  }

  // ---- page ----

  buildPage(root) {
    this.titleInput = h('input', { class: 'title-input', attrs: { 'aria-label': 'Map title' }, dataset: { testid: 'map-title' }, readOnly: this.readOnly });
    this.titleInput.addEventListener('input', () => M.setTitle(this.doc, this.titleInput.value));
    this.statusEl = h('span', { class: 'status', dataset: { testid: 'connection' }, attrs: { role: 'status' } });
    this.savedEl = savedNote();
    this.undoBtn = h('button', { class: 'ghost icon-btn', text: '↶', title: 'Undo your last edit (Ctrl+Z)', attrs: { 'aria-label': 'Undo' }, dataset: { testid: 'undo' }, onclick: () => this.session.undo.undo() });
    this.redoBtn = h('button', { class: 'ghost icon-btn', text: '↷', title: 'Redo (Ctrl+Shift+Z)', attrs: { 'aria-label': 'Redo' }, dataset: { testid: 'redo' }, onclick: () => this.session.undo.redo() });
    this.panelButtons = new Map(['details', 'personas', 'channels', 'comments', 'insights', 'versions', 'workshop'].map((p) => [p, h('button', {
      class: 'ghost', text: p[0].toUpperCase() + p.slice(1), dataset: { testid: `panel-${p}` }, title: p === 'details' ? 'Details of what is selected (Alt+Enter on a card)' : undefined,
      attrs: { 'aria-pressed': 'false', 'aria-controls': 'side-panel' }, onclick: () => this.openPanel(this.panel === p ? null : p),
    })]));
    const me = this.presence.avatars;
    const bar = h('header', { class: 'topbar' },
      h('a', { class: 'back', href: '/', text: '← Maps', title: 'All maps' }),
      this.titleInput,
      this.statusEl,
      this.savedEl,
      h('span', { class: 'spacer' }),
      me,
      this.strip.controls(),
      this.readOnly ? h('span', { class: 'pill warn', text: `View only · ${role}`, dataset: { testid: 'read-only' } }) : [this.undoBtn, this.redoBtn],
      h('span', { class: 'bar-sep' }),
      [...this.panelButtons.values()],
      exportMenu({ mapId: this.mapId, get title() { return document.title.replace(/ · Waymark$/, ''); } }));
    this.banner = h('div', { class: 'banner', attrs: { role: 'alert' }, hidden: true, dataset: { testid: 'banner' } });
    this.panelTitle = h('h2', {});
    this.panelBody = h('div', { class: 'panel-body' });
    this.side = h('aside', { class: 'side', id: 'side-panel', dataset: { testid: 'side-panel' } },
      h('div', { class: 'panel-head' }, this.panelTitle, h('button', { class: 'ghost small', text: '✕', attrs: { 'aria-label': 'Close panel' }, onclick: () => this.openPanel(null) })),
      this.panelBody);
    this.loading = h('div', { class: 'loading', text: 'Loading the map…', dataset: { testid: 'loading' } });
    // Chips for people pointing out of sight sit over the board's edges, outside its scrolling.
    this.edgeLayer = h('div', { class: 'edge-chips', attrs: { 'aria-hidden': 'true' } });
    const boardWrap = h('div', { class: 'board-wrap' }, this.board.el, this.edgeLayer, this.minimap.el);
    // Finding, filtering and zooming: over the board, not in the top bar, which has no room left.
    const viewBar = h('div', { class: 'viewbar', attrs: { role: 'toolbar', 'aria-label': 'Board view' } },
      this.search.el, this.filters.el, h('span', { class: 'spacer' }), this.minimap.toggle, this.zoom.controls());
    this.boardArea = h('div', { class: 'board-area' }, viewBar, boardWrap);
    root.replaceChildren(h('div', { class: 'editor' }, bar, this.strip.el, this.banner, h('div', { class: 'workspace' }, this.boardArea, this.loading, this.side, this.aware.notices)));
    this.openPanel('details');
  }

  /** Without a token, people name themselves; with one, the token names them. */
  get canRename() {
    return !claims;
  }

  async rename() {
    if (!this.canRename) return;
    const name = await promptDialog('Your name, as others see it', this.session.awareness.getLocalState()?.user?.name ?? '');
    if (name) {
      rememberName(name);
      this.presence.setName(name);
    }
  }

  openPanel(name, { fromFollow = false } = {}) {
    this.panelCleanup?.();
    this.panelCleanup = null;
    this.workshopPanel = null;
    // Choosing a panel oneself is acting on one's own: it ends following the leader.
    if (!fromFollow && this.follow && name !== this.panel) this.follow.breakAway();
    this.panel = name;
    this.follow?.publish();
    for (const [p, b] of this.panelButtons) b.setAttribute('aria-pressed', String(p === name));
    this.side.hidden = !name;
    if (!name) return;
    this.panelTitle.textContent = { details: 'Details', personas: 'Personas', channels: 'Channels', comments: 'Comments', insights: 'Insights', versions: 'Versions', workshop: 'Workshop' }[name];
    this.panelBody.replaceChildren();
    if (name === 'workshop') {
      const body = h('div', { dataset: { testid: 'workshop-panel' } });
      this.panelBody.append(body);
      this.workshopPanel = renderWorkshopPanel(body, this);
    } else if (name === 'insights') {
      const body = h('div', {});
      this.panelBody.append(body);
      renderInsights(body, { mapId: this.mapId, onSelect: (c, id) => this.reveal(c, id) });
    } else if (name === 'comments') {
      const body = h('div', {});
      this.panelBody.append(body);
      const comments = renderComments(body, {
        mapId: this.mapId,
        doc: this.doc,
        selection: () => this.selection,
        label: (collection, id) => this.label(collection, id),
        onSelect: (c, id) => this.reveal(c, id),
      });
      this.comments = comments;
      this.panelCleanup = () => {
        comments.destroy();
        this.comments = null;
      };
    } else if (name === 'versions') {
      const body = h('div', {});
      this.panelBody.append(body);
      renderVersions(body, {
        mapId: this.mapId,
        onSelect: (c, id) => this.reveal(c, id),
        onRestored: (res) => toast(`Version ${res?.restored ?? ''} restored for everyone; version ${res?.safetyVersion ?? ''} keeps what was there before.`),
      });
    } else this.renderPanel(true);
  }

  /**
   * Redraws the details or personas panel when what it shows changed, also while someone types in
   * it: the field being typed in stays as it is (panelkeep.js), the rest follows the document.
   */
  renderPanel(force = false) {
    if (this.panel !== 'details' && this.panel !== 'personas' && this.panel !== 'channels') return;
    // Rebuilt only when what it shows changed: most updates are about other cards.
    const sig = this.panelSignature();
    if (!force && sig === this.panelSig) return;
    this.panelSig = sig;
    const previous = this.panelCleanup;
    this.panelCleanup = null;
    const { result: cleanup, kept, twin } = replaceKeepingFocus(this.panelBody, (el) => {
      if (this.panel === 'channels') return renderChannels(el, this);
      if (this.panel !== 'details') return renderPersonas(el, this);
      // Locked content shows its details as a viewer would: the server would undo any change.
      const sel = this.selection;
      const lock = sel && this.blocked(sel.collection, sel.id);
      const done = renderDetails(el, lock ? Object.create(this, { readOnly: { value: true } }) : this);
      this.lockDetails(sel, el);
      return done;
    });
    // A kept field keeps its binding to the document; its new twin's is dropped.
    const binding = kept?._unbind;
    if (kept) kept._unbind = null;
    previous?.();
    if (kept) {
      twin._unbind?.();
      twin._unbind = null;
      kept._unbind = binding;
      kept.id = twin.id; // its label points at the twin's id
      // A text replaced by a new Y.Text (a restored version does that): the field follows the new one.
      if (twin._ytext && kept._ytext !== twin._ytext) {
        kept._unbind?.();
        kept._unbind = bindText(kept, twin._ytext, this.doc);
        kept._ytext = twin._ytext;
      }
    }
    this.panelCleanup = () => {
      cleanup?.();
      kept?._unbind?.();
    };
  }

  panelSignature() {
    const m = this.map;
    const names = (list) => list.map((e) => [e.id, e.name, e.kind]);
    if (this.panel === 'personas' || this.panel === 'channels') return JSON.stringify([this.panel, this.readOnly, m.personas, m.channels, m.touchpoints.map((t) => t.channelId)]);
    const sel = this.selection;
    const entity = sel && this.entity(sel.collection, sel.id);
    const { ytext, ...fields } = entity ?? {};
    const links = sel ? m.links.filter((l) => l.from === sel.id || l.to === sel.id).map((l) => [l.id, l.kind, m.cards.get(l.from === sel.id ? l.to : l.from)?.text]) : [];
    const lockSig = sel && [this.workshop.facilitator, this.workshop.workshop.locks];
    return JSON.stringify([this.panel, this.readOnly, sel, fields, links, m.cards.size, names(m.lanes), names(m.steps), names(m.stages), names(m.personas), names(m.channels), names(m.touchpoints), m.metrics.map((x) => [x.id, x.name, x.touchpointId, x.current]), lockSig]);
  }

  /** The lock of the selected card or lane in its details: a sign, and for facilitators a switch. */
  lockDetails(sel, into = this.panelBody) {
    if (!sel || (sel.collection !== 'cards' && sel.collection !== 'lanes')) return;
    const ws = this.workshop;
    const target = `${sel.collection}/${sel.id}`;
    const own = ws.lock(target);
    const laneId = sel.collection === 'cards' ? this.map.cards.get(sel.id)?.laneId : null;
    const lock = own ?? (laneId && ws.lock(`lanes/${laneId}`)) ?? (sel.collection === 'lanes' ? ws.lock('structure') : null);
    const what = sel.collection === 'cards' ? 'card' : 'lane';
    const parts = [];
    if (lock) parts.push(h('p', { class: 'lock-note', dataset: { testid: 'details-locked' }, text: `🔒 Locked by ${lock.by}${own ? '' : lock.target === 'structure' ? ' (the structure)' : ' (its lane)'}${ws.facilitator ? '' : ': only a facilitator can change it.'}` }));
    if (ws.facilitator) {
      parts.push(h('button', {
        class: 'small', text: own ? `Unlock this ${what}` : `Lock this ${what}`, dataset: { testid: 'details-lock' },
        onclick: () => ws.send(own ? 'unlock' : 'lock', { target }),
      }));
    }
    if (parts.length) into.append(h('div', { class: 'details-lock' }, ...parts));
  }

  /**
   * The lock that keeps this page from changing an entity (null when it may); with `say`, tells
   * the person why nothing happened.
   */
  blocked(collection, id, say = false) {
    const laneId = collection === 'cards' ? this.map.cards.get(id)?.laneId : null;
    const lock = this.workshop.blocking(collection, id, laneId);
    if (lock && say) toast(`Locked by ${lock.by}: only a facilitator can change it.`, 'error');
    return lock;
  }

  /** Whether a new card may go into a lane (its lane may be locked). */
  laneOpen(laneId) {
    const lock = this.workshop.blocking('cards', null, laneId);
    if (lock) toast(`Locked by ${lock.by}: only a facilitator can add cards here.`, 'error');
    return !lock;
  }

  renderStatus() {
    const s = this.session;
    // Between attempts that failed, the page is offline, not about to be connected.
    const away = s.provider.wsUnsuccessfulReconnects > 0;
    const state = s.fatal ? 'closed' : s.status === 'connected' ? (s.synced ? 'connected' : 'syncing') : away ? 'disconnected' : s.status;
    this.statusEl.dataset.status = state;
    this.statusEl.textContent = { connected: 'Live', syncing: 'Syncing…', connecting: 'Reconnecting…', disconnected: 'Offline', closed: 'Closed' }[state] ?? state;
    const local = s.local?.loaded;
    this.loading.hidden = s.synced || !!s.fatal || (local && s.local.hadContent);
    const saved = renderSaved(this.savedEl, s, state);
    let message = null;
    if (s.fatal) message = s.fatal.message;
    else if (saved) message = saved;
    else if (s.synced && state !== 'connected') message = `Connection lost. Your edits are kept ${local ? 'on this device' : 'here'} and will be sent when it returns. Reconnecting…`;
    else if (!s.synced && state !== 'connected' && state !== 'syncing' && s.provider.wsUnsuccessfulReconnects > 2) message = 'Cannot reach the server. Retrying…';
    this.banner.hidden = !message;
    this.banner.textContent = message ?? '';
    this.banner.dataset.kind = s.fatal ? 'error' : 'offline';
    if (s.fatal?.code === 4004) this.readOnly = true;
  }

  /** Whether this page has changes the server has not confirmed (a deleted map's no longer count). */
  get unsent() {
    return this.session.outbox.unsent > 0 && this.session.fatal?.code !== 4004;
  }

  renderUndo() {
    this.undoBtn.disabled = this.session.undo.undoStack.length === 0;
    this.redoBtn.disabled = this.session.undo.redoStack.length === 0;
  }

  /** What a transaction changed: only cards' texts, or anything else (then all is read again). */
  noteChanged(tr) {
    if (this.dirty.full) return;
    const cards = this.doc.getMap('cards');
    for (const type of tr.changed.keys()) {
      const item = type._item;
      const entity = item?.parent;
      if (type instanceof Y.Text && item.parentSub === 'text' && entity instanceof Y.Map && entity._item?.parent === cards) {
        this.dirty.texts.add(entity._item.parentSub);
      } else {
        this.dirty.full = true;
        return;
      }
    }
  }

  /** A render at the next frame: of everything, or (`full` false) of what the document's changes name. */
  schedule(full = true) {
    if (full) this.dirty.full = true;
    if (this.scheduled) return;
    this.scheduled = true;
    // A frame when the page is visible; a timer as well, because hidden pages get no frames.
    const run = () => {
      if (!this.scheduled) return;
      this.scheduled = false;
      this.render();
    };
    requestAnimationFrame(run);
    setTimeout(run, 100);
  }

  /** Reads the document and brings everything on screen up to date with it. */
  render() {
    const started = performance.now();
    const { full, texts } = this.dirty;
    this.dirty = { full: false, texts: new Set() };
    if (!full && this.map && texts.size && this.renderTexts(texts)) {
      this.lastRender = performance.now() - started;
      this.renders = (this.renders ?? 0) + 1;
      for (const fn of this.afterRenderQueue.splice(0)) fn();
      return;
    }
    this.map = M.readMap(this.doc);
    if (this.selection && !this.entity(this.selection.collection, this.selection.id)) this.select(null);
    const title = this.map.meta.title || this.mapId;
    document.title = `${title} · Waymark`;
    if (document.activeElement !== this.titleInput) this.titleInput.value = this.map.meta.title;
    this.board.render();
    decorateSpans(this);
    decorateBoard(this);
    decorateComments(this);
    this.search.refresh();
    this.minimap.schedule();
    this.presence.refresh();
    this.renderPanel();
    this.workshopPanel?.();
    this.comments?.refresh();
    this.renderUndo();
    this.aware.remember();
    this.lastRender = performance.now() - started;
    this.renders = (this.renders ?? 0) + 1;
    const queue = this.afterRenderQueue.splice(0);
    for (const fn of queue) fn();
  }

  /**
   * The render for someone typing: the changed cards' texts are read and their cards redrawn, and
   * what shows card texts (search, overview, the selected card's details) refreshed. False when a
   * card is not as the last full read had it: then everything is read again.
   */
  renderTexts(ids) {
    const changed = [];
    for (const id of ids) {
      const card = this.map.cards.get(id);
      const lane = card && this.map.lanes.find((l) => l.id === card.laneId);
      if (!card?.ytext || !lane || card.ytext !== this.doc.getMap('cards').get(id)?.get('text')) return false;
      changed.push([card, lane]);
    }
    for (const [card, lane] of changed) {
      card.text = card.ytext.toString();
      if (this.board.els.has(`card:${card.id}`)) this.board.renderCard(card, lane);
    }
    this.search.refresh();
    this.minimap.schedule();
    this.presence.refresh();
    this.renderPanel();
    this.comments?.refresh();
    this.aware.remember();
    return true;
  }

  refresh() {
    this.schedule();
  }

  afterRender(fn) {
    this.afterRenderQueue.push(fn);
    this.schedule();
  }

  // ---- selection ----

  select(collection, id, reveal = false) {
    this.selection = collection ? { collection, id } : null;
    this.presence.setSelection(this.selection);
    this.board.markSelection();
    // Panels that point at things stay open when one is picked, and so does a closed panel (the
    // Details button or Alt+Enter opens it); only the personas give way to what was picked.
    if (collection && this.panel === 'personas') this.openPanel('details');
    else if (this.panel === 'details') this.renderPanel(true);
    this.aware?.remember();
    this.comments?.refresh();
    if (reveal && collection) {
      const prefix = { cards: 'card', steps: 'step', stages: 'stage', lanes: 'lane', touchpoints: 'tp', metrics: 'metric' }[collection];
      const el = this.board.els.get(`${prefix}:${id}`);
      el?.scrollIntoView({ block: 'nearest', inline: 'center', behavior: 'smooth' });
      el?.focus({ preventScroll: true });
    }
  }

  /** Selects an entity and opens the Details panel on it: for touchpoints and metrics, edited only there. */
  showDetails(collection, id) {
    this.select(collection, id);
    if (this.panel !== 'details') this.openPanel('details');
  }

  /** Shows an entity the insights or a comparison point at, if the grid shows that kind. */
  reveal(collection, id) {
    if (['cards', 'steps', 'stages', 'lanes', 'touchpoints', 'metrics'].includes(collection) && this.entity(collection, id)) this.select(collection, id, true);
  }

  /** A readable name of an entity (a card's text, a step's name), or null when it is gone. */
  label(collection, id) {
    const e = this.entity(collection, id);
    if (!e) return null;
    return collection === 'cards' ? e.text : e.name;
  }

  entity(collection, id) {
    const m = this.map;
    if (collection === 'cards') return m.cards.get(id);
    if (collection === 'touchpoints') return m.touchpointById.get(id);
    if (collection === 'metrics') return m.metricById.get(id);
    const list = { steps: m.steps, stages: m.stages, lanes: m.lanes, personas: m.personas, channels: m.channels }[collection];
    return list?.find((e) => e.id === id);
  }

  /** A card's text as a Y.Text, turning a plain string (SCHEMA.md allows one) into one first. */
  cardText(id) {
    const card = this.doc.getMap('cards').get(id);
    if (!(card instanceof Y.Map)) return null;
    let text = card.get('text');
    if (!(text instanceof Y.Text)) {
      const value = typeof text === 'string' ? text : '';
      M.edit(this.doc, () => {
        text = new Y.Text(value);
        card.set('text', text);
      });
    }
    return text;
  }

  // ---- edits ----

  addCard(laneId, stepId) {
    if (!this.laneOpen(laneId)) return null;
    // In a private round a participant's cards go to the server, which keeps them private.
    if (this.workshop.workshop.round && !this.workshop.facilitator) return addPrivateCard(this, laneId, stepId);
    const cell = this.map.cells.get(`${laneId}|${stepId}`) ?? [];
    const id = M.addCard(this.doc, laneId, stepId, cell.length, cell);
    this.render();
    this.board.startEditing(id);
    return id;
  }

  moveCard(id, laneId, stepId, index) {
    if (this.blocked('cards', id, true) || (laneId !== this.map.cards.get(id)?.laneId && !this.laneOpen(laneId))) return;
    const cell = (this.map.cells.get(`${laneId}|${stepId}`) ?? []).filter((c) => c.id !== id);
    // A spanning card keeps its length where the columns exist.
    const end = movedEnd(this.map, this.map.cards.get(id), stepId);
    M.moveCard(this.doc, id, laneId, stepId, Math.min(index, cell.length), cell, end === undefined ? {} : { endStepId: end });
  }

  async deleteCard(id, refocus = false) {
    const card = this.map.cards.get(id);
    if (!card || this.blocked('cards', id, true)) return;
    // Focus the neighbour, so keyboard users keep their place.
    const cell = this.map.cells.get(`${card.laneId}|${card.stepId}`) ?? [];
    const i = cell.findIndex((c) => c.id === id);
    const next = cell[i + 1] ?? cell[i - 1];
    M.deleteCard(this.doc, id);
    if (this.selection?.id === id) this.select(null);
    if (refocus) {
      this.afterRender(() => (next ? this.board.els.get(`card:${next.id}`) : this.board.els.get(`cell:${card.laneId}|${card.stepId}`)?.querySelector('.cell-add'))?.focus());
    }
  }

  async deleteEntity(collection, id) {
    if (collection === 'cards') return this.deleteCard(id, true);
    const m = this.map;
    const entity = this.entity(collection, id);
    if (!entity || this.blocked(collection, id, true)) return;
    let cards = 0;
    if (collection === 'steps') cards = [...m.cards.values()].filter((c) => c.stepId === id).length;
    if (collection === 'lanes') cards = [...m.cards.values()].filter((c) => c.laneId === id).length;
    if (collection === 'stages') {
      const steps = new Set(m.steps.filter((s) => s.stageId === id).map((s) => s.id));
      cards = [...m.cards.values()].filter((c) => steps.has(c.stepId)).length;
    }
    const what = { steps: 'step', stages: 'stage', lanes: 'lane', personas: 'persona' }[collection];
    if (cards && !(await confirmDialog(`Delete the ${what} “${entity.name}” and its ${cards} card${cards > 1 ? 's' : ''}? (Undo brings them back.)`))) return;
    if (collection === 'steps') M.deleteStep(this.doc, id);
    if (collection === 'stages') M.deleteStage(this.doc, id);
    if (collection === 'lanes') M.deleteLane(this.doc, id);
    if (collection === 'personas') M.deletePersona(this.doc, id);
    if (this.selection?.id === id) this.select(null);
  }

  addStage() {
    if (this.blocked('stages', null, true)) return;
    const id = M.addStage(this.doc, this.map.stages.length, this.map.stages, 'New stage');
    this.afterRender(() => {
      const el = this.board.els.get(`stage:${id}`);
      if (el) this.board.rename(el, 'stages', id);
    });
  }

  addStep(stageId, afterStepId = null) {
    if (this.blocked('steps', null, true)) return;
    const steps = this.map.steps.filter((s) => s.stageId === stageId);
    const index = afterStepId ? steps.findIndex((s) => s.id === afterStepId) + 1 : steps.length;
    const id = M.addStep(this.doc, stageId, index, steps, 'New step');
    this.afterRender(() => {
      const el = this.board.els.get(`step:${id}`);
      if (el) this.board.rename(el, 'steps', id);
    });
  }

  async addLane() {
    if (this.blocked('lanes', null, true)) return;
    const kind = h('select', { attrs: { 'aria-label': 'Kind of lane' }, dataset: { testid: 'lane-kind' } },
      ...M.LANE_KINDS.map(([k, name]) => h('option', { value: k, text: name })));
    const name = h('input', { attrs: { 'aria-label': 'Lane name' }, placeholder: 'Name (optional)', dataset: { testid: 'lane-name' } });
    const dialog = h('dialog', { attrs: { 'aria-label': 'Add a lane' } },
      h('form', { attrs: { method: 'dialog' } },
        h('h2', { text: 'Add a lane' }),
        h('label', { text: 'Kind' }), kind,
        h('label', { text: 'Name' }), name,
        h('div', { class: 'actions' },
          h('button', { value: 'cancel', text: 'Cancel', formNoValidate: true }),
          h('button', { class: 'primary', value: 'ok', text: 'Add lane', dataset: { testid: 'lane-ok' } }))));
    document.body.append(dialog);
    dialog.showModal();
    kind.focus();
    await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
    dialog.remove();
    if (dialog.returnValue !== 'ok') return;
    const label = name.value.trim() || M.LANE_KINDS.find(([k]) => k === kind.value)[1];
    M.addLane(this.doc, this.map.lanes.length, this.map.lanes, kind.value, label);
  }

  /** Moves a step before/after another step, or to the end of a stage. */
  moveStep(id, stageId, targetId, after = false) {
    if (id === targetId || this.blocked('steps', id, true)) return;
    let stage = stageId;
    let list;
    let index;
    if (targetId) {
      const target = this.map.steps.find((s) => s.id === targetId);
      if (!target) return;
      stage = target.stageId;
      list = this.map.steps.filter((s) => s.stageId === stage && s.id !== id);
      index = list.findIndex((s) => s.id === targetId) + (after ? 1 : 0);
    } else {
      list = this.map.steps.filter((s) => s.stageId === stage && s.id !== id);
      index = list.length;
    }
    M.update(this.doc, 'steps', id, { stageId: stage, rank: M.rankAt(list, index) });
  }

  moveStage(id, targetId, after) {
    this.moveIn('stages', this.map.stages, id, targetId, after);
  }

  moveLane(id, targetId, after) {
    this.moveIn('lanes', this.map.lanes, id, targetId, after);
  }

  moveIn(collection, sorted, id, targetId, after) {
    if (id === targetId || this.blocked(collection, id, true)) return;
    const list = sorted.filter((e) => e.id !== id);
    const index = list.findIndex((e) => e.id === targetId) + (after ? 1 : 0);
    M.update(this.doc, collection, id, { rank: M.rankAt(list, index) });
  }

  /** One place earlier or later: the keyboard's way of dragging a header. */
  nudge(collection, id, forward) {
    if (this.blocked(collection, id, true)) return;
    if (collection === 'steps') {
      const step = this.map.steps.find((s) => s.id === id);
      const siblings = this.map.steps.filter((s) => s.stageId === step.stageId);
      const i = siblings.findIndex((s) => s.id === id);
      const neighbour = siblings[i + (forward ? 1 : -1)];
      if (neighbour) return this.moveStep(id, null, neighbour.id, forward);
      // Past the end of its stage: into the next (or previous) stage.
      const stages = this.map.stages;
      const si = stages.findIndex((s) => s.id === step.stageId);
      const other = stages[si + (forward ? 1 : -1)];
      if (!other) return;
      const steps = this.map.steps.filter((s) => s.stageId === other.id);
      const rank = forward ? M.rankAt(steps, 0) : M.rankAt(steps, steps.length);
      return M.update(this.doc, 'steps', id, { stageId: other.id, rank });
    }
    const sorted = collection === 'stages' ? this.map.stages : this.map.lanes;
    const i = sorted.findIndex((e) => e.id === id);
    const neighbour = sorted[i + (forward ? 1 : -1)];
    if (neighbour) this.moveIn(collection, sorted, id, neighbour.id, forward);
  }

  globalKey(e) {
    const mod = e.ctrlKey || e.metaKey;
    if (!mod || this.readOnly) return;
    if (e.target.matches?.('input, textarea, select')) return; // their own undo
    const key = e.key.toLowerCase();
    if (key === 'z' && !e.shiftKey) this.session.undo.undo();
    else if ((key === 'z' && e.shiftKey) || key === 'y') this.session.undo.redo();
    else return;
    e.preventDefault();
  }
}
