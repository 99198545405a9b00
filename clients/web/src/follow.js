// What each page looks at, published as presence `view` (PROTOCOL.md §5), and following it: while
// the workshop's `follow` is set, participants copy the leader's view until they scroll or act
// themselves, and may follow again; anyone may jump once to someone's view.

const PUBLISH_MS = 120; // a scroll fires many events; a view every 120 ms is smooth enough for followers
const MATCH_PX = 3; // how far a scroll may land from where we put it and still be ours (rounding, clamping)

export class Follow {
  constructor(ed) {
    this.ed = ed;
    this.awareness = ed.session.awareness;
    this.board = ed.board.el;
    this.broken = null; // the follow (leader client id) this page broke away from
    this.expected = null; // where our own last scroll was to land
    this.listeners = new Set();
    this.board.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // Gestures of one's own: wheel, touch, keys that scroll, dragging the scrollbar.
    const mine = () => this.breakAway();
    this.board.addEventListener('wheel', mine, { passive: true });
    this.board.addEventListener('touchstart', mine, { passive: true });
    this.board.addEventListener('keydown', (e) => {
      if (/^(Arrow|Page|Home|End| )/.test(e.key)) mine();
    });
    this.board.addEventListener('pointerdown', (e) => {
      // A press on the scrollbars (outside the client area) is a scroll.
      const r = this.board.getBoundingClientRect();
      if (e.clientX - r.left > this.board.clientWidth || e.clientY - r.top > this.board.clientHeight) mine();
    });
    this.awareness.on('change', ({ updated = [], added = [] } = {}) => {
      const leader = this.leaderClient;
      if (leader !== null && (updated.includes(leader) || added.includes(leader))) this.apply();
    });
    ed.session.workshop.on((kind) => {
      if (kind !== 'state') return;
      const leader = this.leaderClient;
      if (leader !== this.lastLeader) {
        this.lastLeader = leader;
        this.broken = null; // a new follow (or a new leader) asks everyone again
        this.apply();
      }
      this.emit();
    });
    this.publish();
  }

  on(fn) {
    this.listeners.add(fn);
  }

  emit() {
    for (const fn of this.listeners) fn();
  }

  /** The awareness client to follow, or null (none, or it is this page). */
  get leaderClient() {
    const f = this.ed.session.workshop.workshop.follow;
    if (!f || typeof f.client !== 'number' || f.client === this.awareness.clientID) return null;
    return f.client;
  }

  get leaderName() {
    const f = this.ed.session.workshop.workshop.follow;
    return this.awareness.getStates().get(f?.client)?.user?.name ?? f?.leader ?? 'the facilitator';
  }

  /** Following now: a leader to follow, and this page has not broken away from them. */
  get following() {
    const leader = this.leaderClient;
    return leader !== null && this.broken !== leader;
  }

  /** The view this page shows, in grid pixels at zoom 1. */
  view() {
    return {
      x: Math.round(this.board.scrollLeft / this.zoom),
      y: Math.round(this.board.scrollTop / this.zoom),
      zoom: this.zoom,
      panel: this.ed.panel ?? null,
    };
  }

  publish() {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      const view = this.view();
      const old = this.awareness.getLocalState()?.view;
      if (!old || old.x !== view.x || old.y !== view.y || old.zoom !== view.zoom || old.panel !== view.panel) {
        this.awareness.setLocalStateField('view', view);
      }
    }, PUBLISH_MS);
  }

  onScroll() {
    const e = this.expected;
    if (e && Math.abs(this.board.scrollLeft - e.left) <= MATCH_PX && Math.abs(this.board.scrollTop - e.top) <= MATCH_PX) {
      this.publish();
      return;
    }
    this.expected = null;
    this.publish();
  }

  breakAway() {
    const leader = this.leaderClient;
    if (leader !== null && this.broken !== leader) {
      this.broken = leader;
      this.emit();
    }
  }

  followAgain() {
    this.broken = null;
    this.apply();
    this.emit();
  }

  /** The board's zoom level (zoom.js owns it). */
  get zoom() {
    return this.ed.zoom?.level ?? 1;
  }

  /** A leader's zoom: clamped to what this page allows, the scroll set by `show` right after. */
  setZoom(zoom) {
    this.ed.zoom?.set(zoom, { x: 0, y: 0 });
  }

  /** Shows `view` here: zoom, scroll and the side panel. */
  show(view) {
    if (!view || typeof view.x !== 'number' || typeof view.y !== 'number') return;
    if (typeof view.zoom === 'number' && view.zoom !== this.zoom) this.setZoom(view.zoom);
    const panels = ['details', 'personas', 'channels', 'comments', 'insights', 'versions', 'workshop'];
    const panel = panels.includes(view.panel) ? view.panel : null;
    // Someone typing in a panel keeps it; a follower's own field is not closed under them.
    const typing = this.ed.side.contains(document.activeElement) && document.activeElement.matches('input, textarea, select');
    if (panel !== this.ed.panel && !typing && 'panel' in view) this.ed.openPanel(panel, { fromFollow: true });
    this.board.scrollTo({ left: view.x * this.zoom, top: view.y * this.zoom, behavior: 'instant' });
    this.expected = { left: this.board.scrollLeft, top: this.board.scrollTop };
  }

  apply() {
    if (!this.following) return;
    this.show(this.awareness.getStates().get(this.leaderClient)?.view);
  }

  /** Goes once to what someone sees (a click on them in the bar); that is leaving a follow. */
  jumpTo(clientId) {
    const view = this.awareness.getStates().get(clientId)?.view;
    if (clientId !== this.leaderClient) this.breakAway();
    if (view) this.show(view);
    else this.ed.toast?.('They have not shared what they are looking at yet.');
  }
}
