// The large map the editor benchmark (large-map.mjs) measures, in the JSON form of SCHEMA.md §9:
// 8 stages × 5 steps, 12 lanes, cards of 20–120 characters spread unevenly over the cells, links,
// and 2 personas' emotion curves. Seeded, so every run measures the same map; a module of its own
// so that other scripts can build the same map without loading the benchmark.

/** A small seeded PRNG (mulberry32), so every run measures the same map. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The i-th of an ascending run of valid ranks (SCHEMA.md §3): two base-62 digits, never ending in 0. */
const rank = (i) => DIGITS[1 + Math.floor(i / 61)] + DIGITS[1 + (i % 61)];

const STAGES = ['Discover', 'Research', 'Compare', 'Sign up', 'Onboard', 'Use', 'Get help', 'Renew'];
const STEP_VERBS = ['Hears about', 'Searches for', 'Reads reviews of', 'Visits', 'Watches a demo of', 'Compares plans of', 'Asks a friend about', 'Opens', 'Fills in', 'Verifies', 'Configures', 'Invites the team to', 'Imports data into', 'Uses daily', 'Hits a limit in', 'Contacts support of', 'Waits for', 'Gets an answer from', 'Receives the invoice of', 'Renews'];
const LANES = [
  ['actions', 'What the customer does'],
  ['touchpoints', 'Touchpoints'],
  ['thoughts', 'What they think'],
  ['feelings', 'Feelings and quotes'],
  ['emotions', 'Emotion curve'],
  ['pain-points', 'Pain points'],
  ['opportunities', 'Opportunities'],
  ['improvements', 'Improvement actions'],
  ['metrics', 'Metrics'],
  ['frontstage', 'Frontstage'],
  ['backstage', 'Backstage'],
  ['support', 'Support processes'],
];
// How many cards a lane gets, relative to the others.
const LANE_WEIGHT = { actions: 1.4, touchpoints: 1, thoughts: 1.2, feelings: 1.1, 'pain-points': 1.3, opportunities: 1, improvements: 0.8, metrics: 0.5, frontstage: 0.9, backstage: 0.9, support: 0.7 };
const WORDS = ('the customer wants to finish quickly but the form asks for details they do not have at hand so they ' +
  'leave the page and come back later on another device where the cart is empty again which is frustrating ' +
  'support agent checks the account history before calling back within one business day about the invoice ' +
  'pricing page compares three plans with a toggle for yearly billing and a calculator for team size ' +
  'onboarding e-mail explains the first steps links to a short video and offers a live session every week ' +
  'mobile app shows a progress bar while the import runs in the background and sends a notification when done ' +
  'billing system creates the invoice from usage data and the CRM updates the renewal date automatically ' +
  'conversion drops by twelve percent at this step according to the funnel dashboard for last quarter').split(' ');
const SOURCES = ['Usability study, May', 'Support tickets Q3', 'Funnel dashboard', 'Interviews (n=12)', 'NPS comments', 'Session recordings'];
const OWNERS = ['Ana Lima', 'Ben Okafor', 'Chen Wei', 'Dara Novak', 'Eli Haddad'];

function sentence(rand, min = 20, max = 120) {
  const target = min + Math.floor(rand() * (max - min + 1));
  let s = '';
  let w = Math.floor(rand() * WORDS.length);
  while (s.length < target) {
    const word = WORDS[w % WORDS.length];
    w += 1 + Math.floor(rand() * 3);
    if (s && s.length + 1 + word.length > max) break;
    s = s ? `${s} ${word}` : word[0].toUpperCase() + word.slice(1);
  }
  return s.length >= min ? s : (s + ' and more of the same detail').slice(0, max);
}

/** The map in the JSON form of SCHEMA.md §9, and the ids the editing phase uses. */
export function generateMap({ cards: cardCount = 600, seed = 1 } = {}) {
  const rand = prng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const stages = STAGES.map((name, i) => ({ id: `stage-${i}`, name, description: `Stage ${i + 1} of the journey`, rank: rank(i) }));
  const steps = [];
  stages.forEach((stage, si) => {
    for (let k = 0; k < 5; k++) {
      const n = steps.length;
      steps.push({ id: `step-${n}`, stageId: stage.id, name: `${STEP_VERBS[n % STEP_VERBS.length]} the product`, description: '', rank: rank(k) });
    }
  });
  const lanes = LANES.map(([kind, name], i) => ({ id: `lane-${kind}`, kind, name, rank: rank(i) }));
  const cardLanes = lanes.filter((l) => l.kind !== 'emotions');
  const channels = ['Website', 'Mobile app', 'E-mail', 'Phone', 'Chat'].map((name, i) => ({ id: `channel-${i}`, name, rank: rank(i) }));
  const personas = [
    { id: 'persona-0', name: 'Priya, team lead', description: 'Runs a team of eight; evaluates tools in the evening.', goals: 'A tool the whole team adopts.', needs: 'Quick setup, clear pricing.', challenges: 'No time for long trials.', channels: ['channel-0', 'channel-2'], lifecycleStage: 'prospect', rank: rank(0) },
    { id: 'persona-1', name: 'Marco, freelancer', description: 'Works alone, pays by card, price sensitive.', goals: 'Save an hour a day.', needs: 'A free tier, mobile access.', challenges: 'Distrusts yearly contracts.', channels: ['channel-1', 'channel-4'], lifecycleStage: 'new', rank: rank(1) },
  ];
  const touchpoints = steps.filter((_, i) => i % 4 === 0).map((s, i) => ({ id: `tp-${i}`, name: `Touchpoint at ${s.name}`, channelId: pick(channels).id, stepId: s.id, rank: rank(i) }));
  const metrics = [
    { id: 'metric-0', name: 'Trial conversion', type: 'conversion', unit: '%', target: 25, direction: 'higher-is-better', stepId: steps[15].id, rank: rank(0) },
    { id: 'metric-1', name: 'Onboarding drop-off', type: 'drop-off', unit: '%', target: 15, direction: 'lower-is-better', stepId: steps[22].id, rank: rank(1) },
    { id: 'metric-2', name: 'Support CSAT', type: 'csat', unit: '%', target: 85, direction: 'higher-is-better', stepId: steps[32].id, rank: rank(2) },
  ];
  const measurements = metrics.flatMap((m, i) => ['2026-08-01', '2026-09-01', '2026-10-01'].map((date, k) => ({ id: `meas-${i}-${k}`, metricId: m.id, date, value: Math.round(10 + rand() * 80) })));

  // Cards: a lane by weight, a step at random, so some cells stay empty and some hold four or five.
  const weights = cardLanes.map((l) => LANE_WEIGHT[l.kind] ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const cellCount = new Map();
  const cards = [];
  for (let n = 0; n < cardCount; n++) {
    let r = rand() * total;
    let li = 0;
    while (r > weights[li] && li < weights.length - 1) r -= weights[li++];
    const lane = cardLanes[li];
    const step = pick(steps);
    const key = `${lane.id}|${step.id}`;
    const inCell = cellCount.get(key) ?? 0;
    cellCount.set(key, inCell + 1);
    const card = { id: `card-${n}`, laneId: lane.id, stepId: step.id, rank: rank(inCell), text: sentence(rand) };
    if (rand() < 0.5) card.evidence = pick(['reported', 'observed', 'validated']);
    if (card.evidence && rand() < 0.5) card.evidenceSource = pick(SOURCES);
    if (lane.kind === 'pain-points') card.severity = 1 + Math.floor(rand() * 5);
    if (lane.kind === 'opportunities' || lane.kind === 'improvements') {
      card.impact = 1 + Math.floor(rand() * 5);
      card.effort = 1 + Math.floor(rand() * 5);
    }
    if (lane.kind === 'improvements') {
      card.status = pick(['open', 'planned', 'in-progress', 'done', 'dropped']);
      if (rand() < 0.6) card.owner = pick(OWNERS);
      if (rand() < 0.4) card.due = `2026-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;
    }
    if ((lane.kind === 'thoughts' || lane.kind === 'feelings') && rand() < 0.4) card.personaId = pick(personas).id;
    cards.push(card);
  }

  // Links: opportunities address pain points, preferably near them.
  const pains = cards.filter((c) => c.laneId === 'lane-pain-points');
  const opps = cards.filter((c) => c.laneId === 'lane-opportunities');
  const stepIndex = new Map(steps.map((s, i) => [s.id, i]));
  const links = [];
  const pairs = new Set();
  for (let tries = 0; links.length < 40 && tries < 5000; tries++) {
    const o = pick(opps);
    const near = pains.filter((p) => Math.abs(stepIndex.get(p.stepId) - stepIndex.get(o.stepId)) <= 2);
    const p = near.length && rand() < 0.8 ? pick(near) : pick(pains);
    if (pairs.has(`${o.id}>${p.id}`)) continue;
    pairs.add(`${o.id}>${p.id}`);
    links.push({ id: `link-${links.length}`, from: o.id, to: p.id, kind: 'addresses' });
  }

  const emotions = [];
  for (const p of personas) {
    let score = 0;
    for (const s of steps) {
      score = Math.max(-2, Math.min(2, score + Math.round(rand() * 2 - 1)));
      emotions.push({ personaId: p.id, stepId: s.id, score });
    }
  }

  // Sorted as SCHEMA.md §9 says a reader sorts (import does not require it, but it is the form).
  cards.sort((a, b) => a.laneId.localeCompare(b.laneId) || stepIndex.get(a.stepId) - stepIndex.get(b.stepId) || a.rank.localeCompare(b.rank));
  const map = {
    schemaVersion: 1,
    meta: {
      title: 'Benchmark: SaaS subscription service blueprint', description: 'A large generated map for the editor benchmark.',
      kind: 'service-blueprint', scenario: 'A team evaluates, buys and renews a subscription.', goals: 'Measure the editor on a big map.', owner: 'bench',
    },
    personas, stages, steps, lanes, cards, channels, touchpoints, metrics, measurements, links, emotions,
  };

  // What the second page edits: 20 cards spread over the board (by column, then lane) for text,
  // and 10 others that move to another cell every time it is their turn.
  const byPlace = [...cards].sort((a, b) => stepIndex.get(a.stepId) - stepIndex.get(b.stepId) || a.laneId.localeCompare(b.laneId));
  const every = Math.floor(byPlace.length / 20);
  const textIds = Array.from({ length: 20 }, (_, i) => byPlace[i * every].id);
  const movable = byPlace.filter((c) => !textIds.includes(c.id));
  const moveIds = Array.from({ length: 10 }, (_, i) => movable[Math.floor((i + 0.5) * movable.length / 10)].id);
  const stepIds = steps.map((s) => s.id);
  const laneIds = cardLanes.map((l) => l.id);
  return { map, textIds, moveIds, stepIds, laneIds };
}
