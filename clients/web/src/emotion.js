// The emotion lane: each persona's curve across the steps (SCHEMA.md §5.12), with points to drag
// up and down (or move with the arrow keys) between −2 and +2.
import { svg } from './dom.js';
import { setEmotion } from './model.js';

export const PERSONA_COLOURS = ['#1f5fa8', '#c2410c', '#15803d', '#7e22ce', '#be185d', '#0f766e'];
const FACES = { '-2': 'very negative', '-1': 'negative', 0: 'neutral', 1: 'positive', 2: 'very positive' };

/** Which curves a lane shows: its persona's, or every persona's, or the map's own (`*`). */
export function curvesOf(lane, map) {
  if (lane.personaId) {
    const i = map.personas.findIndex((p) => p.id === lane.personaId);
    if (i >= 0) return [{ id: lane.personaId, name: map.personas[i].name, colour: PERSONA_COLOURS[i % PERSONA_COLOURS.length] }];
  }
  if (!map.personas.length) return [{ id: null, name: 'Customer', colour: PERSONA_COLOURS[0] }];
  return map.personas.map((p, i) => ({ id: p.id, name: p.name || 'Persona', colour: PERSONA_COLOURS[i % PERSONA_COLOURS.length] }));
}

let dragging = null; // the lane element a point is being dragged in: not redrawn under the pointer

export function renderEmotionLane(el, lane, columns, ed) {
  if (dragging === el) return;
  const map = ed.map;
  const { col, rem } = ed.board.metrics();
  const unit = 1.6 * rem; // height of one score step
  const pad = 1.2 * rem;
  const height = unit * 4 + pad * 2;
  const width = Math.max(1, columns.length) * col;
  const y = (score) => pad + (2 - score) * unit;
  const curves = curvesOf(lane, map);
  // Redrawn only when something it shows changed: a redraw would take focus from a point.
  const scores = columns.map((c) => c.step && curves.map((cv) => map.emotions.get(`${cv.id ?? '*'}/${c.step.id}`)));
  const sig = JSON.stringify([col, rem, ed.readOnly, curves, columns.map((c) => c.step && [c.step.id, c.step.name]), scores, lane.name]);
  if (el._sig === sig) return;
  el._sig = sig;
  const root = svg('svg', { width, height, class: 'emotion-svg', role: 'group', 'aria-label': `${lane.name || 'Emotion curve'}: ${curves.map((c) => c.name).join(', ')}` });
  for (const s of [-2, -1, 0, 1, 2]) {
    root.append(svg('line', { x1: 0, x2: width, y1: y(s), y2: y(s), class: s === 0 ? 'emo-zero' : 'emo-grid' }));
  }
  root.append(svg('text', { x: 4, y: y(2) - 4, class: 'emo-axis' }, '+2'), svg('text', { x: 4, y: y(-2) + 14, class: 'emo-axis' }, '−2'));
  curves.forEach((curve, ci) => {
    const points = [];
    columns.forEach((c, i) => {
      if (!c.step) return;
      const score = map.emotions.get(`${curve.id ?? '*'}/${c.step.id}`);
      if (score !== undefined) points.push([(i + 0.5) * col, y(score)]);
    });
    if (points.length > 1) {
      root.append(svg('polyline', { points: points.map((p) => p.join(',')).join(' '), fill: 'none', stroke: curve.colour, 'stroke-width': 3, 'stroke-linejoin': 'round', 'stroke-linecap': 'round', class: 'emo-line' }));
    }
    columns.forEach((c, i) => {
      if (!c.step) return;
      const key = `${curve.id ?? '*'}/${c.step.id}`;
      const score = map.emotions.get(key);
      // Curves side by side a few pixels apart, so points of equal score stay reachable.
      const x = (i + 0.5) * col + (ci - (curves.length - 1) / 2) * 10;
      const label = `${curve.name} at ${c.step.name}: ${score === undefined ? 'no score' : `${score > 0 ? '+' : ''}${score} (${FACES[score]})`}`;
      const point = svg('circle', {
        cx: x, cy: y(score ?? 0), r: score === undefined ? 6 : 8,
        class: score === undefined ? 'emo-point unset' : 'emo-point',
        fill: score === undefined ? '#fff' : curve.colour, stroke: curve.colour,
        tabindex: 0, role: 'slider', 'aria-label': label, 'aria-valuemin': -2, 'aria-valuemax': 2,
        'aria-valuenow': score ?? 0, 'aria-valuetext': score === undefined ? 'no score' : FACES[score],
        'data-testid': 'emotion-point', 'data-persona': curve.id ?? '*', 'data-step': c.step.id, 'data-score': score ?? '',
      });
      point.append(svg('title', {}, label));
      if (!ed.readOnly) drag(point, el, (s) => setEmotion(ed.doc, curve.id, c.step.id, s), y, unit, score, ed);
      root.append(point);
    });
  });
  el.replaceChildren(root);
}

function drag(point, laneEl, set, y, unit, score, ed) {
  point.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    point.setPointerCapture(e.pointerId);
    dragging = laneEl;
    point.classList.add('grabbed');
    const top = point.ownerSVGElement.getBoundingClientRect().top;
    let current = score;
    const move = (ev) => {
      // The pointer is on screen, the curve's units in grid pixels at zoom 1.
      const zoom = ed.zoom?.level ?? 1;
      const at = Math.max(-2, Math.min(2, Math.round(2 - ((ev.clientY - top) / zoom - y(2)) / unit)));
      point.setAttribute('cy', y(at));
      if (at !== current) {
        current = at;
        set(at); // live: others see the point move while it is dragged
      }
    };
    const up = (ev) => {
      move(ev);
      point.removeEventListener('pointermove', move);
      point.removeEventListener('pointerup', up);
      point.removeEventListener('pointercancel', up);
      if (current === undefined) set(0); // a click on an unset point sets it to neutral
      dragging = null;
      ed.refresh();
    };
    point.addEventListener('pointermove', move);
    point.addEventListener('pointerup', up);
    point.addEventListener('pointercancel', up);
  });
  point.addEventListener('keydown', (e) => {
    const now = score ?? 0;
    let next;
    if (e.key === 'ArrowUp' || e.key === 'ArrowRight') next = Math.min(2, score === undefined ? 0 : now + 1);
    else if (e.key === 'ArrowDown' || e.key === 'ArrowLeft') next = Math.max(-2, score === undefined ? 0 : now - 1);
    else if (e.key === 'Home') next = -2;
    else if (e.key === 'End') next = 2;
    else if (e.key === 'Delete' || e.key === 'Backspace') next = null;
    else return;
    e.preventDefault();
    e.stopPropagation();
    const persona = point.dataset.persona;
    const step = point.dataset.step;
    set(next);
    ed.afterRender(() => laneEl.querySelector(`[data-persona="${CSS.escape(persona)}"][data-step="${CSS.escape(step)}"]`)?.focus());
  });
}
