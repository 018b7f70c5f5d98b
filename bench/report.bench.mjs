// `wacx report --json` over a store of 1,000,000 messages (inbound, App echoes, API messages of campaigns and
// others, with their statuses) in the last 30 days: the whole command must finish in under 5 s, and its peak RSS
// must stay flat: the 1,000,000-message store may not need more than 25 % more memory than one of 250,000.
// `BENCH_MESSAGES` changes the sizes ("250000,1000000"); the last one is timed against the target.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, fmt, ROOT, tempDir } from './send-common.mjs';

const SIZES = (process.env.BENCH_MESSAGES ?? '250000,1000000').split(',').map(Number);
const TARGET_MS = 5000;
const FLAT = 1.25;
const { Store } = await import(join(ROOT, 'dist', 'lib', 'store', 'sqlite.js'));

const DAY = 86_400_000;
const PN = '106540352242922';

/**
 * Seeds `n` messages over the 30 days before now: 40 % inbound, 10 % App echoes, 50 % API messages (four in five
 * from four campaigns) with `sent` and `delivered` statuses, `read` for half, `failed` for 2 %; 100,000 people.
 * One transaction, prepared statements; every row points at one webhook event (the report never reads events).
 */
function seed(path, n) {
  const store = Store.open(path);
  const db = store.db;
  db.pragma('foreign_keys = OFF');
  db.pragma('synchronous = OFF');
  const now = Date.now();
  const start = now - 29 * DAY - (now % DAY);
  const span = now - start;
  const people = 100_000;
  const who = (i) => String(491510000000 + (i % people));
  const time = (i) => start + Math.floor(((i * 7919) % n) * (span / n));
  const inbound = db.prepare(
    `INSERT INTO inbound_messages (event_id, phone_number_id, wamid, from_wa_id, type, text, timestamp)
     VALUES (1, ?, ?, ?, 'text', 'hi', ?)`,
  );
  const echo = db.prepare(
    `INSERT INTO message_echoes (event_id, phone_number_id, wamid, to_wa_id, type, text, timestamp)
     VALUES (1, ?, ?, ?, 'text', 'ok', ?)`,
  );
  const status = db.prepare(
    `INSERT INTO message_statuses (event_id, phone_number_id, wamid, status, timestamp, recipient_id, error_code)
     VALUES (1, ?, ?, ?, ?, ?, ?)`,
  );
  const campaign = db.prepare(
    `INSERT INTO campaigns (id, created_at, updated_at, status, template, language, phone_number_id, csv_path,
       csv_size, csv_mtime, csv_sha256, options, template_json, started_at, finished_at)
     VALUES (?, ?, ?, 'completed', 'promo', 'en_US', ?, 'promo.csv', 1, 1, 'x', '{}', '{}', ?, ?)`,
  );
  const row = db.prepare(
    `INSERT INTO campaign_rows (cid, row, line, recipient, state, wamid, updated_at) VALUES (?, ?, ?, ?, 'sent', ?, ?)`,
  );
  const optOut = db.prepare(
    `INSERT INTO opt_outs (event_id, phone_number_id, recipient, opted_out, source, keyword, at)
     VALUES (1, ?, ?, 1, 'keyword', 'STOP', ?)`,
  );
  db.transaction(() => {
    db.prepare(
      `INSERT INTO webhook_payloads (id, received_at, body_sha256, body, signature_verified, source)
       VALUES (1, ?, 'x', '{}', 1, 'bench')`,
    ).run(now);
    db.prepare(
      `INSERT INTO webhook_events (id, payload_id, dedupe_key, field, kind, parsed, received_at, summary, data)
       VALUES (1, 1, 'bench', 'messages', 'message', 1, ?, 'bench', '{}')`,
    ).run(now);
    const inboundN = Math.floor(n * 0.4);
    const echoN = Math.floor(n * 0.1);
    const apiN = n - inboundN - echoN;
    for (let i = 0; i < inboundN; i++) inbound.run(PN, `wamid.in.${i}`, who(i), time(i));
    for (let i = 0; i < echoN; i++) echo.run(PN, `wamid.echo.${i}`, who(i * 3), time(i * 5 + 1));
    const campaigns = 4;
    const perCampaign = Math.floor((apiN * 0.8) / campaigns);
    const cids = [];
    for (let c = 0; c < campaigns; c++) {
      const at = start + (c + 1) * 6 * DAY;
      campaign.run(`bench-${c}`, at, at + DAY, PN, at, at + DAY);
      cids.push(Number(db.prepare('SELECT last_insert_rowid() AS id').get().id));
    }
    for (let i = 0; i < apiN; i++) {
      const wamid = `wamid.api.${i}`;
      const c = Math.floor(i / perCampaign);
      const inCampaign = c < campaigns;
      const to = who(i * 11);
      const t = inCampaign ? start + (c + 1) * 6 * DAY + (i % perCampaign) * 10 : time(i * 3 + 2);
      if (inCampaign) row.run(cids[c], (i % perCampaign) + 1, (i % perCampaign) + 2, to, wamid, t);
      status.run(PN, wamid, 'sent', t, to, null);
      if (i % 50 === 0) status.run(PN, wamid, 'failed', t + 2000, to, 131049);
      else status.run(PN, wamid, 'delivered', t + 2000, to, null);
      if (i % 2 === 0 && i % 50 !== 0) status.run(PN, wamid, 'read', t + 60_000, to, null);
      if (inCampaign && i % 100 === 1) optOut.run(PN, to, t + DAY);
    }
  })();
  store.close();
}

/** Runs the built CLI; the peak RSS comes from the child itself (its resource usage, written when it exits). */
function runReport(env, rssFile) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      ['--import', probeModule(env.HOME, rssFile), BIN, 'report', '--json'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** A module preloaded into the child that records its peak RSS (KiB) when it exits. */
function probeModule(dir, rssFile) {
  const path = join(dir, 'rss-probe.mjs');
  writeFileSync(
    path,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  return path;
}

const results = [];
let failed = false;
for (const n of SIZES) {
  const dir = tempDir();
  try {
    const db = join(dir.dir, 'wacx.db');
    const seeded = performance.now();
    seed(db, n);
    const seedMs = performance.now() - seeded;
    const env = {
      PATH: process.env.PATH,
      HOME: dir.dir,
      XDG_CONFIG_HOME: join(dir.dir, '.config'),
      WACX_KEYCHAIN: '0',
      WACX_DB: db,
      CI: 'true',
    };
    const rssFile = join(dir.dir, 'rss.txt');
    const r = await runReport(env, rssFile);
    const peakMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
    if (r.code !== 0) {
      console.log(`${fmt(n)} messages: wacx report exited ${r.code}: ${r.stderr.trim()}`);
      failed = true;
      continue;
    }
    const j = JSON.parse(r.stdout);
    const counted = j.messages.totals.total;
    console.log(
      `${fmt(n)} messages (seeded in ${fmt(seedMs / 1000, 1)} s): wacx report --json took ${fmt(r.ms / 1000, 2)} s, peak RSS ${fmt(peakMb, 1)} MB; ` +
        `${fmt(counted)} messages counted, ${fmt(j.first_response.all.responses)} first responses, ${j.campaigns.length} campaigns`,
    );
    if (counted !== n) {
      console.log(`  counted ${counted} messages, seeded ${n}`);
      failed = true;
    }
    results.push({ n, ms: r.ms, peakMb });
  } finally {
    dir.cleanup();
  }
}
const last = results.at(-1);
if (last && last.ms >= TARGET_MS) {
  console.log(
    `MISSED: ${fmt(last.n)} messages took ${fmt(last.ms / 1000, 2)} s (target < ${TARGET_MS / 1000} s)`,
  );
  failed = true;
}
if (results.length > 1 && last.peakMb > results[0].peakMb * FLAT) {
  console.log(
    `MISSED: peak RSS grew from ${fmt(results[0].peakMb, 1)} MB to ${fmt(last.peakMb, 1)} MB (more than ${Math.round((FLAT - 1) * 100)} %)`,
  );
  failed = true;
}
if (!failed) console.log(`report: under ${TARGET_MS / 1000} s and flat memory`);
process.exitCode = failed ? 1 : 0;
