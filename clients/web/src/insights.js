// The insights panel: what to fix first, as the server works it out from the map
// (`GET /api/v1/maps/{id}/insights`). Clicking an entity asks the editor to show it.
import { api, explain } from './api.js';
import { h } from './dom.js';

let instances = 0;

const EVIDENCE = {
  hypothesis: ['Hypothesis', 'warn'],
  reported: ['Reported', ''],
  observed: ['Observed', ''],
  validated: ['Validated', 'ok'],
};

/** A signed number with a real minus sign: "−2", "+1", "0". */
function signed(n) {
  if (n > 0) return `+${n}`;
  if (n < 0) return `−${Math.abs(n)}`;
  return '0';
}

function number(n) {
  return Number.isInteger(n) ? String(n) : n.toLocaleString(undefined, { maximumFractionDigits: 2 });
}


function pill(text, kind = '', title) {
  return h('span', { class: `pill${kind ? ` ${kind}` : ''}`, title, text });
}

function severityPill(severity) {
  if (severity === null || severity === undefined) return pill('No severity', '', 'Severity not set');
  const kind = severity >= 4 ? 'danger' : severity === 3 ? 'warn' : '';
  return h('span', { class: `pill${kind ? ` ${kind}` : ''}` }, `Severity ${severity}`,
    h('span', { class: 'visually-hidden', text: ' of 5' }));
}

function emotionPill(score) {
  if (score === null || score === undefined) return null;
  const kind = score < 0 ? 'danger' : score > 0 ? 'ok' : '';
  return pill(`Emotion ${signed(score)}`, kind, 'The lowest emotion score at this step, from −2 to +2');
}

function evidencePill(evidence) {
  const [name, kind] = EVIDENCE[evidence] ?? [evidence || 'Hypothesis', 'warn'];
  return pill(name, kind, 'Evidence');
}

/**
 * Renders the insights of `ctx.mapId` into `el` (an empty container in the side panel).
 * `ctx.onSelect(collection, id)` is called when an entity is clicked: `cards` for pain points,
 * `steps`, `touchpoints` or `metrics`. Returns `{ refresh }` (refresh resolves when painted).
 */
export function renderInsights(el, ctx) {
  const n = ++instances;
  const collapsed = new Set();
  const select = (collection, id) => () => ctx.onSelect?.(collection, id);

  const stamp = h('span', { class: 'insights-stamp muted', attrs: { role: 'status' } });
  const refreshButton = h('button', {
    type: 'button', class: 'ghost insights-refresh', dataset: { testid: 'insights-refresh' },
    attrs: { 'aria-label': 'Refresh insights' }, onclick: () => refresh(),
  }, h('span', { attrs: { 'aria-hidden': 'true' }, class: 'insights-refresh-icon', text: '↻' }), 'Refresh');
  const body = h('div', { class: 'insights-body', attrs: { 'aria-busy': 'true' } },
    h('p', { class: 'muted insights-note', text: 'Working out what to fix first…' }));
  const root = h('section', { class: 'insights', dataset: { testid: 'insights' }, attrs: { 'aria-labelledby': `insights-title-${n}` } },
    h('div', { class: 'insights-head' },
      h('h2', { id: `insights-title-${n}`, text: 'Insights' }), stamp, refreshButton),
    body);
  el.replaceChildren(root);

  /** A collapsible section: a heading holding the disclosure button, then its content. */
  function section(key, title, count, content, tone) {
    const id = `insights-${n}-${key}`;
    const open = !collapsed.has(key);
    const panel = h('div', { id, class: 'insights-section-body', hidden: !open }, content);
    const toggle = h('button', {
      type: 'button', class: 'insights-toggle', attrs: { 'aria-expanded': String(open), 'aria-controls': id },
      onclick: () => {
        const nowOpen = panel.hidden;
        panel.hidden = !nowOpen;
        toggle.setAttribute('aria-expanded', String(nowOpen));
        if (nowOpen) collapsed.delete(key); else collapsed.add(key);
      },
    },
      h('span', { class: 'insights-chevron', attrs: { 'aria-hidden': 'true' } }),
      h('span', { class: 'insights-section-title', text: title }),
      count === null ? null : h('span', { class: `insights-count${tone && count ? ` insights-count-${tone}` : ''}`, text: String(count) }));
    return h('section', { class: 'insights-section', dataset: { section: key } }, h('h3', {}, toggle), panel);
  }

  /** A section with nothing to report: good news (`ok`) or simply nothing yet. */
  function none(text, ok = true) {
    return h('p', { class: `insights-none${ok ? ' insights-none-ok' : ''}`, text });
  }

  // Findings name the root their entity lives in (a touchpoint may be a typed touchpoint or a card
  // of a touchpoints lane); `collection` is the fallback for older servers.
  function entity(collection, item, label = item.name) {
    return h('button', {
      type: 'button', class: 'insights-link', onclick: select(item.collection || collection, item.id),
      title: `Show on the map`,
    }, label || '(unnamed)');
  }

  function chips(collection, items) {
    return h('ul', { class: 'insights-chips' }, items.map((it) => h('li', {}, entity(collection, it))));
  }

  function painPoints(list) {
    if (!list.length) return none('No pain points on this map yet.', false);
    return h('ol', { class: 'insights-list insights-pains' }, list.map((p) => h('li', { class: 'insights-item' },
      entity('cards', p, p.text),
      h('div', { class: 'insights-pills' }, severityPill(p.severity), emotionPill(p.emotion), evidencePill(p.evidence)),
      p.step ? h('div', { class: 'insights-where' }, 'at ', entity('steps', p.step)) : null)));
  }

  function emotionLows(list) {
    if (!list.length) return none('No emotion scores yet.', false);
    return h('ul', { class: 'insights-list' }, list.map((low) => h('li', { class: 'insights-item' },
      h('div', { class: 'insights-row' },
        h('span', { class: 'insights-name', text: low.persona || (low.personaId ? '(unnamed persona)' : 'All personas') }),
        emotionPill(low.score)),
      low.steps?.length ? h('div', { class: 'insights-where' }, 'at ', low.steps.map((s, i) => [i ? ', ' : '', entity('steps', s)])) : null)));
  }

  function metricsOff(list, checked) {
    if (!list.length) {
      if (!checked?.measuredMetrics) return none('No metric with a target has been measured yet.', false);
      const n = checked.measuredMetrics;
      return none(`${n === 1 ? 'The one measured metric meets' : `All ${n} measured metrics meet`} their target.`);
    }
    return h('ul', { class: 'insights-list' }, list.map((m) => {
      const higher = m.direction !== 'lower-is-better';
      return h('li', { class: 'insights-item' },
        h('div', { class: 'insights-row' }, entity('metrics', m), pill(`${signed(Number((m.value - m.target).toFixed(2)))} off`, 'danger', 'Latest value minus target')),
        h('div', { class: 'insights-detail' },
          h('strong', { text: number(m.value) }), ` against a target of ${higher ? 'at least' : 'at most'} `,
          h('strong', { text: number(m.target) }),
          m.date ? h('span', { class: 'muted', text: ` · measured ${m.date}` }) : null));
    }));
  }

  function coverage(cov) {
    const channels = cov?.channels ?? [];
    const stages = cov?.stages ?? [];
    if (!channels.length || !stages.length) return none(channels.length ? 'No stages on this map yet.' : 'No channels on this map yet.', false);
    const gaps = (cov.counts ?? []).flat().filter((c) => !c).length;
    return h('div', {},
      h('p', { class: 'insights-hint muted', text: 'Touchpoints and cards per channel and stage; empty cells are gaps.' }),
      h('div', { class: 'insights-table-wrap', attrs: { tabindex: '0', role: 'region', 'aria-label': 'Channel coverage table' } },
        h('table', { class: 'insights-coverage' },
          h('caption', { class: 'visually-hidden', text: `Channel coverage: ${gaps} empty ${gaps === 1 ? 'cell' : 'cells'}` }),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Channel' }), stages.map((s) => h('th', { scope: 'col', text: s.name })))),
          h('tbody', {}, channels.map((c, i) => h('tr', {},
            h('th', { scope: 'row', text: c.name }),
            stages.map((_, j) => {
              const v = cov.counts?.[i]?.[j] ?? 0;
              return v
                ? h('td', { text: String(v) })
                : h('td', { class: 'insights-gap' }, h('span', { attrs: { 'aria-hidden': 'true' }, text: '–' }), h('span', { class: 'visually-hidden', text: 'none' }));
            })))))));
  }

  function paint(data) {
    const list = (k) => data[k] ?? [];
    const checked = data.checked ?? {};
    // "Every X is fine" only when there were X to look at.
    const allGood = (count, noun, good) => (count === 0 ? none(`No ${noun} on this map yet.`, false) : none(good));
    body.replaceChildren(...[
      section('pains', 'Pain points, worst first', list('painPoints').length, painPoints(list('painPoints')), 'danger'),
      section('lows', 'Emotional lows', list('emotionLows').length, emotionLows(list('emotionLows'))),
      section('unaddressed', 'Pain points nobody addresses', list('unaddressedPainPoints').length,
        list('unaddressedPainPoints').length
          ? chips('cards', list('unaddressedPainPoints'))
          : allGood(checked.painPoints, 'pain points', 'Every pain point has an opportunity or action linked to it.'), 'warn'),
      section('steps', 'Steps without evidence', list('unevidencedSteps').length,
        list('unevidencedSteps').length
          ? [h('p', { class: 'insights-hint muted', text: 'No card at these steps has evidence beyond a hypothesis.' }), chips('steps', list('unevidencedSteps'))]
          : allGood(checked.steps, 'steps', 'Every step has evidence beyond a hypothesis.'), 'warn'),
      section('touchpoints', 'Touchpoints without evidence', list('unevidencedTouchpoints').length,
        list('unevidencedTouchpoints').length
          ? chips('touchpoints', list('unevidencedTouchpoints'))
          : allGood(checked.touchpoints, 'touchpoints', 'Every touchpoint has evidence beyond a hypothesis.'), 'warn'),
      section('metrics', 'Metrics off target', list('metricsOffTarget').length, metricsOff(list('metricsOffTarget'), data.checked), 'danger'),
      section('nodata', 'Metrics without measurements', list('metricsWithoutData').length,
        list('metricsWithoutData').length
          ? chips('metrics', list('metricsWithoutData'))
          : allGood(checked.metricsWithTarget, 'metrics with a target', 'Every metric with a target has been measured.'), 'warn'),
      list('untrackedMetricCards').length
        ? section('untracked', 'Figures no check can hold to a target', list('untrackedMetricCards').length,
          [h('p', { class: 'insights-hint muted', text: 'These metric cards state their figures as text. Make them metrics (with a target and measurements) to have them checked.' }),
            chips('cards', list('untrackedMetricCards'))], 'warn')
        : null,
      section('coverage', 'Channel coverage', null, coverage(data.channelCoverage)),
    ].filter(Boolean));
  }

  let pending = null;
  async function refresh() {
    if (pending) return pending;
    body.setAttribute('aria-busy', 'true');
    root.classList.add('insights-loading');
    refreshButton.setAttribute('aria-busy', 'true');
    pending = (async () => {
      try {
        const data = await api(`/maps/${encodeURIComponent(ctx.mapId)}/insights`);
        paint(data);
        const now = new Date();
        stamp.textContent = `as of ${now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
        stamp.title = now.toLocaleString();
      } catch (err) {
        body.replaceChildren(h('div', { class: 'insights-error', attrs: { role: 'alert' } },
          h('p', { class: 'error-text', text: `The insights could not be loaded. ${explain(err)}` })));
      } finally {
        body.setAttribute('aria-busy', 'false');
        root.classList.remove('insights-loading');
        refreshButton.removeAttribute('aria-busy');
        pending = null;
      }
    })();
    return pending;
  }

  refresh();
  return { refresh };
}
