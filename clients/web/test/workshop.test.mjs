// A whole workshop in four real pages — one facilitator, three participants, tokens with roles — on
// one server, then again with the participants split over two nodes of a cluster. Each step asserts
// what every page shows, polling with `eventually`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARTIFACTS, WAYMARK_BIN, baseOf, eventually, launchBrowser, mint, newPerson, openMap, rest, startServer } from './helpers.mjs';
import { startCluster } from './cluster.mjs';

const SECRET = 'workshop-e2e-secret-at-least-32-bytes';
const PEOPLE = [
  { user: 'fay', name: 'Fay Facilitator', role: 'facilitator' },
  { user: 'ana', name: 'Ana Lima', role: 'editor' },
  { user: 'ben', name: 'Ben Okafor', role: 'editor' },
  { user: 'cid', name: 'Cid Ström', role: 'editor' },
];

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const all = (pages, what, fn, timeout) => Promise.all(pages.map((p, i) => eventually(`${what} at ${PEOPLE[i].user}`, () => fn(p, i), timeout)));
const count = (page, selector) => page.locator(selector).count();
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

/** Runs the workshop with each person on `bases[i]`; `tag` names the map and screenshots. */
async function workshop(bases, tag) {
  const tokens = await Promise.all(PEOPLE.map((p) => mint(WAYMARK_BIN, SECRET, { ...p, map: 'ws-*' })));
  const mapId = `ws-${tag}`;
  await rest(bases[0], '/maps', { method: 'POST', token: tokens[0], body: { id: mapId, template: 'ecommerce-purchase' } });
  const { map } = await rest(bases[0], `/maps/${mapId}`, { token: tokens[0] });
  const pains = map.lanes.find((l) => l.kind === 'pain-points').id;
  const pages = [];
  for (const [i, p] of PEOPLE.entries()) {
    const page = await newPerson(browser, p.name);
    await openMap(page, bases[i], mapId, { token: tokens[i] });
    pages.push(page);
  }
  const [fay, ...participants] = pages;
  const [ana, ben, cid] = participants;
  try {
    // ---- session ----
    await fay.getByTestId('panel-workshop').click();
    await fay.getByTestId('ws-title-input').fill('Checkout pains');
    await fay.getByTestId('ws-session-start').click();
    await all(pages, 'the workshop strip', async (p) => (await p.getByTestId('ws-title').textContent()) === 'Workshop: Checkout pains');
    assert.equal(await count(ana, '[data-testid=ws-session-start]'), 0, 'participants have no facilitator controls');
    await all(pages, 'everyone in the presence bar', async (p) => (await count(p, '[data-testid=avatar]')) === 3);

    // ---- follow ----
    await fay.getByTestId('ws-follow-start').click();
    await all(participants, 'following', async (p) => (await p.getByTestId('follow-status').getAttribute('data-state')) === 'following');
    const scrollOf = (p) => p.locator('[data-testid=board]').evaluate((b) => [b.scrollLeft, b.scrollTop]);
    const scrollTo = (p, x, y) => p.locator('[data-testid=board]').evaluate((b, [x, y]) => b.scrollTo(x, y), [x, y]);
    await scrollTo(fay, 420, 160);
    const fayAt = await eventually('Fay scrolled', async () => { const s = await scrollOf(fay); return s[0] > 0 && s; });
    await all(participants, 'the leader\'s scroll', async (p) => {
      const [x, y] = await scrollOf(p);
      return Math.abs(x - fayAt[0]) <= 3 && Math.abs(y - fayAt[1]) <= 3;
    });
    await all(participants, 'the leader\'s panel', async (p) => (await p.getByTestId('panel-workshop').getAttribute('aria-pressed')) === 'true');
    // Ana scrolls on her own: she stops following, the others go on.
    await ana.locator('[data-testid=board]').hover({ position: { x: 300, y: 300 } });
    await ana.mouse.wheel(0, 250);
    await eventually('Ana stopped following', async () => (await ana.getByTestId('follow-status').getAttribute('data-state')) === 'stopped');
    // The wheel scroll is animated: note where Ana is once it has landed (two equal polls in a row).
    let last = null;
    const anaAway = await eventually('Ana\'s own scroll landed', async () => {
      const s = await scrollOf(ana);
      const landed = last && s[1] !== fayAt[1] && s[0] === last[0] && s[1] === last[1];
      last = s;
      return landed && s;
    });
    await scrollTo(fay, 60, 0);
    await all([ben, cid], 'the leader\'s new scroll', async (p) => (await scrollOf(p))[0] === 60);
    assert.deepEqual(await scrollOf(ana), anaAway, 'Ana stays where she scrolled');
    await ana.getByTestId('follow-again').click();
    await eventually('Ana back with Fay', async () => (await scrollOf(ana))[0] === 60);
    await fay.getByTestId('ws-follow-stop').click();
    await all(participants, 'follow over', async (p) => (await count(p, '[data-testid=follow-status]')) === 0);

    // ---- timer: the same countdown everywhere, paused everywhere, a flash and a beep at zero ----
    await fay.getByTestId('ws-timer-label').fill('Silent writing');
    await fay.getByTestId('ws-timer-5').click();
    await all(pages, 'the timer', async (p) => (await p.getByTestId('timer').getAttribute('data-state')) === 'running');
    const remaining = await Promise.all(pages.map((p) => p.evaluate(() => window.waymarkEditor.workshop.remaining())));
    assert.ok(Math.max(...remaining) - Math.min(...remaining) < 1000, `remaining differs: ${remaining}`);
    assert.ok(remaining[0] > 290_000 && remaining[0] <= 300_000, `${remaining[0]}`);
    const shown = await Promise.all(pages.map((p) => p.getByTestId('timer-time').textContent()));
    assert.ok(shown.every((t) => /^[45]:\d\d$/.test(t)), `${shown}`);
    await fay.getByTestId('ws-timer-pause').click();
    await all(pages, 'paused', async (p) => (await p.getByTestId('timer').getAttribute('data-state')) === 'paused'
      && /^Paused/.test(await p.getByTestId('timer-label').textContent()));
    const paused = await Promise.all(pages.map((p) => p.getByTestId('timer-time').textContent()));
    assert.equal(new Set(paused).size, 1, `paused at ${paused}`);
    await shot(ana, `${tag}-timer-paused`);
    await fay.getByTestId('ws-timer-minutes').fill('0.04');
    await fay.getByTestId('ws-timer-start').click();
    await all(pages, 'time is up', async (p) => (await p.getByTestId('timer').getAttribute('data-state')) === 'done'
      && Number(await p.getByTestId('timer').getAttribute('data-beeps')) >= 1, 8000);
    await fay.getByTestId('ws-timer-stop').click();
    await all(pages, 'no timer', async (p) => p.getByTestId('timer').isHidden());

    // ---- private round ----
    await fay.getByTestId('ws-round-start').click();
    await all(participants, 'the round', async (p) => (await count(p, '[data-testid=round-status]')) === 1);
    const ideas = ['Coupon field hidden on mobile', 'Shipping cost shown too late', 'Card declined without a reason'];
    for (const [i, p] of participants.entries()) {
      await p.locator(`.cell[data-lane="${pains}"][data-step="${map.steps[i].id}"] [data-testid=add-card]`).click();
      await p.getByTestId('prompt-input').fill(ideas[i]);
      await p.getByTestId('prompt-ok').click();
    }
    await all(participants, 'one\'s own private card', async (p, i) => (await count(p, `[data-testid=private-card]:has-text("${ideas[i]}")`)) === 1);
    await eventually('the count at Fay', async () => (await fay.getByTestId('ws-round-count').textContent()) === '3 private cards from 3 people');
    await shot(fay, `${tag}-round-facilitator`);
    for (const [i, p] of pages.entries()) {
      for (const [j, idea] of ideas.entries()) {
        if (i === j + 1) continue;
        assert.equal(await count(p, `.grid :text("${idea}")`), 0, `${PEOPLE[i].user} sees ${PEOPLE[j + 1].user}'s private card`);
      }
    }
    await fay.getByTestId('ws-round-reveal').click();
    await all(pages, 'every card revealed', async (p) => {
      for (const idea of ideas) if ((await count(p, `[data-testid=card]:has-text("${idea}")`)) !== 1) return false;
      return (await count(p, '[data-testid=private-card]')) === 0;
    });

    // ---- dot-vote ----
    const idOf = (idea) => fay.locator(`[data-testid=card]:has-text("${idea}")`).getAttribute('data-id');
    const [a, b, c] = await Promise.all(ideas.map(idOf));
    await fay.getByTestId('ws-vote-title').fill('Biggest pain?');
    await fay.getByTestId('ws-vote-scope').selectOption(`lane:${pains}`);
    await fay.getByTestId('ws-vote-per-person').fill('3');
    await fay.getByTestId('ws-vote-per-card').fill('2');
    await fay.getByTestId('ws-vote-open').click();
    await all(pages, 'the vote', async (p) => (await p.getByTestId('votes-left').getAttribute('data-left')) === '3');
    const vote = async (p, id) => {
      const before = await p.getByTestId('votes-left').getAttribute('data-left');
      await p.locator(`[data-testid=card][data-id="${id}"] [data-testid=vote-add]`).click();
      await eventually('the vote counted', async () => (await p.getByTestId('votes-left').getAttribute('data-left')) === String(before - 1));
    };
    await vote(ana, a); await vote(ana, a); await vote(ana, b);
    await vote(ben, a); await vote(ben, c);
    await vote(cid, c);
    await cid.locator(`[data-testid=card][data-id="${c}"] [data-testid=vote-remove]`).click();
    await eventually('Cid took it back', async () => (await cid.getByTestId('votes-left').getAttribute('data-left')) === '3');
    await vote(cid, b);
    assert.ok(await ana.locator(`[data-testid=card][data-id="${a}"] [data-testid=vote-add]`).isDisabled(), 'two on one card is the most');
    const mine = (p, id) => p.locator(`[data-testid=card][data-id="${id}"] [data-testid=vote-ctl]`).getAttribute('data-mine');
    assert.deepEqual([await mine(ana, a), await mine(ben, a), await mine(cid, a), await mine(fay, a)], ['2', '1', '0', '0'], 'each page shows only its own votes');
    for (const p of pages) assert.equal(await count(p, '[data-testid=vote-total]'), 0, 'no totals before the reveal');
    await eventually('voters at Fay', async () => (await fay.getByTestId('ws-vote-voters').getAttribute('data-voters')) === '3');
    await shot(ana, `${tag}-voting`);
    await fay.getByTestId('ws-vote-reveal').click();
    const totals = { [a]: '3', [b]: '2', [c]: '1' };
    await all(pages, 'the totals on the cards', async (p) => {
      for (const [id, n] of Object.entries(totals)) {
        if ((await p.locator(`[data-testid=card][data-id="${id}"] [data-testid=vote-total]`).getAttribute('data-votes')) !== n) return false;
      }
      return (await count(p, '[data-testid=vote-ctl]')) === 0;
    });
    for (const p of participants) {
      if ((await p.getByTestId('panel-workshop').getAttribute('aria-pressed')) !== 'true') await p.getByTestId('panel-workshop').click();
    }
    await all(pages, 'the ranked list', async (p) => {
      const rows = await p.locator('[data-testid=result-row]').evaluateAll((els) => els.slice(0, 3).map((e) => [e.dataset.card, e.dataset.votes]));
      return JSON.stringify(rows) === JSON.stringify([[a, '3'], [b, '2'], [c, '1']]);
    });
    await shot(ben, `${tag}-results`);

    // ---- locks: the structure, then a lane ----
    await fay.getByTestId('ws-lock-structure').click();
    await all(participants, 'the structure locked', async (p) => (await count(p, '[data-testid=structure-locked]')) === 1
      && (await p.getByTestId('add-stage').isHidden()) && (await p.getByTestId('add-lane').isHidden()));
    assert.ok(await fay.getByTestId('add-stage').isVisible(), 'the facilitator may still change it');
    const step = map.steps[0];
    await ana.locator(`.step-head[data-id="${step.id}"]`).dblclick();
    assert.equal(await count(ana, '[data-testid=rename]'), 0, 'no renaming a locked step');
    // Something that shows the forbidden name anywhere in the others' grids, however briefly.
    for (const p of [fay, ben, cid]) {
      await p.evaluate(() => {
        window.sawForbidden = false;
        new MutationObserver(() => {
          if (document.querySelector('.grid').textContent.includes('Renamed behind the lock')) window.sawForbidden = true;
        }).observe(document.querySelector('.grid'), { subtree: true, childList: true, characterData: true });
      });
    }
    await ana.evaluate((id) => window.waymarkEditor.doc.getMap('steps').get(id).set('name', 'Renamed behind the lock'), step.id);
    await eventually('the server undid it at Ana', async () => (await ana.locator(`.step-head[data-id="${step.id}"]`).textContent()).includes(step.name)
      && (await count(ana, '.toast:has-text("locked")')) >= 1);
    await cid.getByTestId('raise-hand').click(); // an edit that is allowed, to be sure the others are live after the refused one
    await all([fay, ben], 'Cid\'s hand', async (p) => (await count(p, '[data-testid=hand]')) === 1);
    for (const p of [fay, ben, cid]) assert.equal(await p.evaluate(() => window.sawForbidden), false, 'the locked change never showed');
    assert.equal((await rest(bases[0], `/maps/${mapId}`, { token: tokens[0] })).map.steps.find((s) => s.id === step.id).name, step.name);
    await fay.locator(`.lane-head[data-id="${pains}"] [data-testid=lane-lock]`).click();
    await all(participants, 'the lane locked', async (p) => (await count(p, `.lane-head[data-id="${pains}"] [data-testid=lock-sign]`)) === 1
      && (await count(p, `.card.ws-locked [data-testid=lock-sign]`)) > 0);
    await shot(ana, `${tag}-locked`);

    // ---- attendance ----
    await fay.getByTestId('ws-attendance-load').click();
    await eventually('four people in the table', async () => (await count(fay, '[data-testid=attendance-row]')) === 4);
    const [csvDl] = await Promise.all([fay.waitForEvent('download'), fay.getByTestId('ws-attendance-csv').click()]);
    const csv = await readFile(await csvDl.path(), 'utf8');
    const lines = csv.trim().split('\n');
    assert.match(lines[0], /^user,first_joined,last_left,present_minutes/);
    assert.equal(lines.length, 5, csv);
    for (const p of PEOPLE) assert.ok(csv.includes(p.name), `${p.name} in\n${csv}`);
    const [jsonDl] = await Promise.all([fay.waitForEvent('download'), fay.getByTestId('ws-attendance-json').click()]);
    const json = JSON.parse(await readFile(await jsonDl.path(), 'utf8'));
    // Not asserted: `votesCast` is 0 for everyone, as the server counts votes by the token's user
    // (`sub`) but lists attendance by display name (see the report of issue 16).
    await writeFile(join(ARTIFACTS, `${tag}-attendance.json`), JSON.stringify(json, null, 2));
    assert.deepEqual(json.attendance.map((x) => x.user).sort(), PEOPLE.map((p) => p.name).sort());
    await shot(fay, `${tag}-attendance`);
    for (const [i, p] of pages.entries()) assert.deepEqual(p.errors, [], `errors in ${PEOPLE[i].user}'s page`);
    return { json };
  } finally {
    for (const p of pages) await p.context().close();
  }
}

describe('a workshop on one server', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--auth-secret', SECRET] });
  });
  after(async () => {
    await server?.stop();
  });
  test('session, follow, timer, private round, dot-vote, locks and attendance', async () => {
    await workshop(Array(4).fill(baseOf(server)), 'single');
  });
});

describe('a workshop over two cluster nodes', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster(['--auth-secret', SECRET]);
  });
  after(async () => {
    await cluster?.stop();
  });
  test('the same workshop with the participants split over two nodes', async () => {
    const [a, b] = cluster.nodes.map(baseOf);
    await workshop([a, a, b, b], 'cluster');
  });
});
