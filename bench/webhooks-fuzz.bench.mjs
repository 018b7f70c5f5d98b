// Webhook receiver fuzz over HTTP: the built `wacx webhooks serve` (child process, temporary SQLite store) gets
// >= 10,000 seeded cases, 16 at a time, on loopback: signed authentic payloads mutated with absurd values (the
// mutators of the fuzz test, bench/fixtures/webhook-mutators.mjs) and targeted ones (times such as "99999999999999",
// entry.time 1e308, 1e13, wrong types, unknown fields and shapes, ~5,000 levels of nesting, arrays over 10,000
// elements, bodies of exactly 3 MB and 3 MB + 1 byte), bodies that are not UTF-8, empty or not an object, forged
// signatures, unsigned requests, redeliveries (after the first answer and while it is in flight), odd content
// types, slow bodies (sent in pieces with pauses, within the timeouts) and chunked transfer encoding.
// Checked (exit 1 if any misses): the receiver never exits and answers a handshake probe throughout; every case
// gets the status its kind calls for (authentic JSON 200, never a 5xx); every event of the authentic bodies is in
// the store exactly once (its dedupe key, against the keys the parser gives for the bodies sent) and nothing else
// is, no body is stored twice, nothing of a forged or unsigned body is stored, every signature failure is counted;
// peak RSS of the receiver (VmHWM) stays under the target; the whole run under a hang ceiling.
// The load stays within the receiver's buffer budget (16 requests x 3 MB < 64 MB): no 503 is expected.
//   node bench/webhooks-fuzz.bench.mjs [cases=10000] [seed=20261204]   (BENCH_PROGRESS=1: a line per 1,000 cases)
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parsePayload } from '../dist/lib/webhooks/parse.js';
import { ABSURD, mutate, rng } from './fixtures/webhook-mutators.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CASES = Number(process.argv[2] ?? 10_000);
const SEED = Number(process.argv[3] ?? 20261204);
const CONCURRENCY = 16;
const MIN_CASES = 10_000;
const TARGET_PEAK_RSS_MB = 400;
/** Not a throughput target: a run this long means something hangs. */
const CEILING_S = 300;
const SECRET = 'bench-fuzz-app-secret';
const VERIFY_TOKEN = 'bench-fuzz-verify';
const MAX_BODY = 3 * 1024 * 1024;
const WABA = '102290129340398';
const PN = '106540352242922';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------
// The receiver

const home = mkdtempSync(join(tmpdir(), 'wacx-bench-fuzz-'));
const db = join(home, 'wacx.db');
const child = spawn(
  process.execPath,
  [join(root, 'bin', 'wacx.js'), 'webhooks', 'serve', '--port', '0', '--json'],
  {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      WACX_KEYCHAIN: '0',
      NO_COLOR: '1',
      CI: 'true',
      WACX_DB: db,
      WACX_APP_SECRET: SECRET,
      WACX_VERIFY_TOKEN: VERIFY_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let stopping = false;
let crashed = null;
child.once('exit', (code, signal) => {
  if (!stopping) crashed = `exited with ${code ?? signal} during the run`;
});
const exited = new Promise((r) => child.once('exit', (code) => r(code)));
let stderrTail = '';
let stderrLines = 0;
createInterface({ input: child.stderr }).on('line', (l) => {
  stderrLines++;
  stderrTail = `${stderrTail}\n${l}`.slice(-2000);
});
let eventLines = 0;
const stdout = createInterface({ input: child.stdout });
const url = await new Promise((resolve, reject) => {
  stdout.on('line', (l) => {
    if (l.startsWith('{"type":"event"')) eventLines++;
    else if (l.startsWith('{"type":"listening"')) resolve(JSON.parse(l).url);
  });
  child.once('exit', () => reject(new Error(`the receiver exited before listening:${stderrTail}`)));
});

// Peak memory of the receiver process: the kernel's high-water mark (VmHWM), and VmRSS sampled every 100 ms.
const procStatus = () => {
  try {
    const s = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? Number.NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
};
const startRss = procStatus()?.rss ?? Number.NaN;
/** CPU seconds the receiver has used (user + system; /proc/<pid>/stat counts in ticks of 1/100 s). */
const receiverCpu = () => {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
};
let sampledPeak = 0;
const sampler = setInterval(() => {
  const s = procStatus();
  if (s && s.rss > sampledPeak) sampledPeak = s.rss;
}, 100);

// The receiver answers throughout: a verification handshake every 500 ms, on its own connection.
let probes = 0;
const probeFailures = [];
let probing = true;
const prober = (async () => {
  while (probing) {
    const n = ++probes;
    try {
      const res = await fetch(
        `${url}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=${n}`,
        { signal: AbortSignal.timeout(10_000) },
      );
      const text = await res.text();
      if (res.status !== 200 || text !== String(n)) probeFailures.push(`probe ${n}: HTTP ${res.status}`);
    } catch (error) {
      probeFailures.push(`probe ${n}: ${error.cause?.code ?? error.name}`);
    }
    await sleep(500);
  }
})();

// ---------------------------------------------------------------------------------------------------------
// Payloads

const sign = (body, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const metadata = () => ({ display_phone_number: '15550783881', phone_number_id: PN });
const envelope = (field, value, entry = {}) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: WABA, ...entry, changes: [{ field, value }] }],
});
const phone = (i) => `1650${String(i % 10_000_000).padStart(7, '0')}`;
const status = (wamid, i, st = 'delivered') => ({
  id: wamid,
  status: st,
  timestamp: String(1750030073 + (i % 100_000)),
  recipient_id: phone(i),
  biz_opaque_callback_data: `fuzz:${i}`,
  pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' },
  ...(st === 'failed'
    ? { errors: [{ code: 131026, title: 'failed', message: 'failed', error_data: { details: 'x' } }] }
    : {}),
});
const statuses = (list) =>
  envelope('messages', { messaging_product: 'whatsapp', metadata: metadata(), statuses: list });
const historyMessage = (id, n) => ({
  from: '16505550000',
  id,
  timestamp: String(1739230955 + n),
  type: 'text',
  text: { body: `history ${n}` },
  history_context: { status: 'READ' },
});
const history = (i, messages, extra = {}) =>
  envelope('history', {
    messaging_product: 'whatsapp',
    metadata: metadata(),
    history: [
      {
        metadata: { phase: i % 3, chunk_order: i, progress: i % 101 },
        threads: [{ id: phone(i), messages }],
        ...extra,
      },
    ],
  });

/** An authentic payload of one of the fields wacx parses (and one it does not), with ids unique to case i. */
function seedPayload(i) {
  const w = `wamid.fz.${i}`;
  switch (i % 9) {
    case 0:
      return statuses([status(w, i)]);
    case 1:
      return envelope('messages', {
        messaging_product: 'whatsapp',
        metadata: metadata(),
        contacts: [{ profile: { name: 'User' }, wa_id: phone(i) }],
        messages: [
          {
            from: phone(i),
            id: w,
            timestamp: '1750030100',
            type: 'text',
            text: { body: i % 2 ? 'STOP' : 'hello' },
          },
        ],
      });
    case 2:
      return envelope('smb_message_echoes', {
        messaging_product: 'whatsapp',
        metadata: metadata(),
        message_echoes: [
          {
            from: '15550783881',
            to: phone(i),
            id: w,
            timestamp: '1700255121',
            type: 'text',
            text: { body: 'from the App' },
          },
        ],
      });
    case 3:
      return history(i, [historyMessage(`${w}.a`, i), historyMessage(`${w}.b`, i + 1)]);
    case 4:
      return envelope('smb_app_state_sync', {
        messaging_product: 'whatsapp',
        metadata: metadata(),
        state_sync: [
          {
            type: 'contact',
            contact: { full_name: `Ana ${i}`, first_name: 'Ana', phone_number: phone(i) },
            action: i % 2 ? 'add' : 'remove',
            metadata: { timestamp: String(1738346006 + i) },
          },
        ],
      });
    case 5:
      return envelope(
        'account_update',
        { event: 'PARTNER_ADDED', waba_info: { waba_id: WABA, owner_business_id: String(i) } },
        { time: 1739212624 + i },
      );
    case 6:
      return statuses([status(w, i, 'failed')]);
    case 7:
      return envelope('message_template_status_update', {
        event: 'APPROVED',
        message_template_id: 9_000_000 + i,
        message_template_name: `fuzz_${i}`,
        message_template_language: 'en_US',
        reason: 'NONE',
      });
    default:
      return envelope('calls', {
        messaging_product: 'whatsapp',
        metadata: metadata(),
        calls: [{ id: `call.${i}`, event: 'connect' }],
      });
  }
}

/** Targeted absurdities at known places (the mutators pick places at random). */
const TARGETED = [
  (p, r) => {
    p.entry[0].time = [1e308, -1e308, '99999999999999', 1e13, -5, 'soon', null, 1.5][Math.floor(r() * 8)];
    return p;
  },
  (p, r) => {
    const v = p.entry[0].changes[0].value;
    const item =
      v.statuses?.[0] ??
      v.messages?.[0] ??
      v.message_echoes?.[0] ??
      v.history?.[0]?.threads?.[0]?.messages?.[0];
    if (item)
      item.timestamp = ['99999999999999', '-99999999999999', 1e13, 1e308, '1e308', -1, '', 'NaN'][
        Math.floor(r() * 8)
      ];
    else p.entry[0].time = '99999999999999';
    return p;
  },
  (p, r) => {
    // unknown fields and shapes
    const v = p.entry[0].changes[0].value;
    v[`unknown_${Math.floor(r() * 1000)}`] = { nested: [1, 'two', { three: null }], at: 1e13 };
    p.entry[0].extra = [true, { surprise: 'yes' }];
    p.entry.push({ id: WABA, changes: [{ field: 'not_a_field', value: { anything: [1, 2, 3] } }] });
    return p;
  },
  (p, r) => {
    const shapes = [
      () => ({ ...p, object: 'page' }),
      () => ({ ...p, entry: { id: WABA } }),
      () => ({ ...p, entry: [{ id: WABA, changes: 'x' }] }),
      () => ({ ...p, entry: [{ id: 12345, changes: [{ field: 'messages', value: [] }] }] }),
      () => ({ ...p, entry: [{ id: WABA, changes: [{ field: 42, value: { statuses: 'delivered' } }] }] }),
      () => ({ ...p, entry: [] }),
      () => ({ entry: p.entry }),
    ];
    return shapes[Math.floor(r() * shapes.length)]();
  },
  (p) => {
    // wrong types in the items
    const v = p.entry[0].changes[0].value;
    for (const list of [v.statuses, v.messages, v.message_echoes]) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        item.id = Number.MAX_SAFE_INTEGER;
        item.recipient_id = true;
        item.from = { not: 'a phone' };
        item.type = ['text'];
      }
    }
    if (v.metadata) v.metadata.phone_number_id = 106540352242922;
    return p;
  },
  (p, r) => {
    // an array over 10,000 scalars in a field wacx does not read (the 10,001 statuses are scheduled below)
    p.entry[0].changes[0].value[r() < 0.5 ? 'padding' : 'unknown_list'] = Array.from(
      { length: 10_001 + Math.floor(r() * 5000) },
      (_, k) => (r() < 0.5 ? k : `item ${k}`),
    );
    return p;
  },
];

// ---------------------------------------------------------------------------------------------------------
// Cases

const r = rng(SEED);
const pick = (list) => list[Math.floor(r() * list.length)];
const ODD_TYPES = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=iso-8859-1',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'APPLICATION/JSON',
  '',
];

/** The body of exactly `size` bytes: a history chunk padded with a string. */
function paddedHistory(i, size) {
  const p = history(i, [historyMessage(`wamid.fz.${i}.big`, i)], { pad: '' });
  const bare = Buffer.byteLength(JSON.stringify(p));
  p.entry[0].changes[0].value.history[0].pad = 'p'.repeat(size - bare);
  return Buffer.from(JSON.stringify(p));
}

/** How the receiver must answer a signed body (mirrors its rules: not UTF-8 or not JSON 400, too large 413). */
function expectFor(raw) {
  if (raw.length > MAX_BODY) return { status: 413, payload: undefined };
  try {
    return { status: 200, payload: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) };
  } catch {
    return { status: 400, payload: undefined };
  }
}

/**
 * Case i: { kind, body, headers, authentic, expectStatus?, pieces?, pauseMs?, chunked?, redeliveryOf? }. Every case is
 * drawn in order from the seeded generator, so a run can be replayed with the same seed.
 */
function makeCase(i, sent) {
  const json = (p) => Buffer.from(JSON.stringify(p));
  const signed = (kind, body, extra = {}) => ({
    kind,
    body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) },
    authentic: true,
    ...extra,
  });
  // scheduled heavy cases, spread through the run
  if (i % 1000 === 101) return signed('3 MB body', paddedHistory(i, MAX_BODY));
  if (i % 1000 === 601) return signed('3 MB + 1 byte body', paddedHistory(i, MAX_BODY + 1));
  if (i % 2000 === 1301)
    return signed(
      '10,001 statuses',
      json(statuses(Array.from({ length: 10_001 }, (_, k) => status(`wamid.fz.${i}.${k}`, k)))),
    );
  if (i % 250 === 37) {
    // written as text: JSON.stringify itself cannot go 5,000 levels deep (JSON.parse can)
    const p = seedPayload(i);
    p.entry[0].changes[0].value.deep = 'DEEP';
    const deep =
      i % 500 === 37
        ? `${'['.repeat(5000)}1${']'.repeat(5000)}`
        : `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`;
    return signed('5,000 levels of nesting', Buffer.from(JSON.stringify(p).replace('"DEEP"', deep)));
  }
  const x = r();
  if (x < 0.4) return signed('mutated', json(mutate(seedPayload(i), r, ABSURD, 3)));
  if (x < 0.5) return signed('targeted', json(pick(TARGETED)(seedPayload(i), r)));
  if (x < 0.53)
    return signed('plain', json(statuses([status(`wamid.plain.${i}`, i)])), {
      plainWamid: `wamid.plain.${i}`,
    });
  if (x < 0.58) {
    const good = JSON.stringify(seedPayload(i));
    const raw = pick([
      () => Buffer.alloc(0),
      () =>
        Buffer.concat([
          Buffer.from(good.slice(0, 40)),
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from(good.slice(40)),
        ]),
      () => Buffer.concat([Buffer.from('{"object":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      () => Buffer.from(good.slice(0, Math.floor(good.length / 2))),
      () =>
        Buffer.from(
          pick([
            '[]',
            '42',
            '"a string"',
            'null',
            'true',
            '{}',
            '[{"object":"whatsapp_business_account"}]',
            `[${i}]`,
          ]),
        ),
      () => Buffer.from(`\ufeff${good}`),
      () => Buffer.from(`  \n${good}\n  `),
      () => Buffer.from(good.replace('"entry":', '"__proto__":{"polluted":1},"entry":')),
      () => Buffer.from(good.replace('"entry":[{', '"entry":[{"time":1e400,')),
      () => Buffer.from(`{"object":"whatsapp_business_account","object":"x",${good.slice(1)}`),
    ])();
    return signed('not UTF-8 / not JSON / not an object', raw);
  }
  if (x < 0.68) {
    const body = json(mutate(statuses([status(`wamid.forged.${i}`, i)]), r, ABSURD, 1));
    const other = json(statuses([status(`wamid.other.${i}`, i)]));
    const good = sign(body);
    const signature = pick([
      () => sign(body, 'not-the-app-secret'),
      () => `sha256=${createHash('sha256').update(String(i)).digest('hex')}`,
      () => sign(other),
      () => `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`,
      () => `sha256=${'0'.repeat(64)}`,
    ])();
    return {
      kind: 'forged signature',
      body,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      authentic: false,
      expectStatus: 401,
    };
  }
  if (x < 0.75) {
    const body = json(statuses([status(`wamid.forged.${i}`, i)]));
    const header = pick([
      undefined,
      '',
      'sha1=abcdef',
      'sha256=',
      'sha256=zz',
      `sha256=${'a'.repeat(63)}`,
      `md5=${'a'.repeat(32)}`,
      'garbage',
    ]);
    const headers = { 'content-type': 'application/json' };
    if (header !== undefined) headers['x-hub-signature-256'] = header;
    return { kind: 'unsigned', body, headers, authentic: false, expectStatus: 401 };
  }
  if (x < 0.84) {
    // a redelivery of a body sent at least 2 x CONCURRENCY cases back (the sender waits for its answer first)
    const eligible = countUpTo(sent, i - 2 * CONCURRENCY);
    if (eligible > 0) {
      const h = sent[Math.floor(r() * eligible)];
      return { kind: 'redelivery', body: h.body, headers: h.headers, authentic: true, redeliveryOf: h.done };
    }
  }
  if (x < 0.85 && sent.length > 0) {
    // the same body again while the first may still be in flight
    const h = sent[sent.length - 1];
    return { kind: 'redelivery in flight', body: h.body, headers: h.headers, authentic: true };
  }
  if (x < 0.9) {
    const c = signed('odd content type', json(r() < 0.5 ? seedPayload(i) : mutate(seedPayload(i), r)));
    const type = pick(ODD_TYPES);
    if (type === undefined) delete c.headers['content-type'];
    else c.headers['content-type'] = type;
    return c;
  }
  if (x < 0.98) {
    const c = signed('chunked', json(r() < 0.5 ? seedPayload(i) : mutate(seedPayload(i), r)), {
      chunked: true,
    });
    c.pieces = split(c.body, 1 + Math.floor(r() * 5));
    return c;
  }
  const c = signed('slow body', json(seedPayload(i)), { chunked: r() < 0.5 });
  c.pieces = split(c.body, 3 + Math.floor(r() * 4));
  c.pauseMs = 20 + Math.floor(r() * 150);
  return c;
}

/** How many of `sent` (in case order) have an index <= `last`. */
function countUpTo(sent, last) {
  let lo = 0;
  let hi = sent.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sent[mid].index <= last) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `n` pieces cut at random bytes (a multi-byte character may be cut in two). */
function split(buf, n) {
  const cuts = Array.from({ length: n - 1 }, () => Math.floor(r() * buf.length)).sort((a, b) => a - b);
  const out = [];
  let at = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(buf.subarray(at, c));
    at = c;
  }
  return out;
}

/**
 * A key as SQLite gives it back: a lone surrogate (the mutators write '\ud800') is stored as the bytes of its code
 * point, which do not decode as UTF-8, so reading it back gives replacement characters. Both sides are compared
 * with each run of either made one U+FFFD.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const comparable = (key) => key.replace(LONE_SURROGATE, '\ufffd').replace(/\ufffd+/g, '\ufffd');

/** The dedupe keys the receiver gives an authentic JSON body (parsePayload; the hash of the bytes if it throws). */
function keysOf(payload, raw) {
  try {
    return parsePayload(payload).map((e) => comparable(e.key));
  } catch {
    return [`(payload)/raw/${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sending

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function send(c) {
  return new Promise((resolve) => {
    let status = 0;
    const headers = { ...c.headers };
    if (!c.chunked) headers['content-length'] = String(c.body.length);
    const req = request(url, { method: 'POST', agent, headers, timeout: 60_000 });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve({ status }));
      res.on('error', (e) => resolve({ status, error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => resolve({ status, error: e.code ?? e.message }));
    if (!c.pieces) {
      req.end(c.body);
      return;
    }
    (async () => {
      for (const [k, piece] of c.pieces.entries()) {
        if (k > 0 && c.pauseMs) await sleep(c.pauseMs);
        if (req.destroyed) return;
        req.write(piece);
      }
      req.end();
    })();
  });
}

const expectedKeys = new Set();
const authenticShas = new Set();
const plainWamids = [];
const pool = []; // answered-or-sent authentic small bodies, for redeliveries
const byKind = new Map();
const mismatches = [];
let authentic5xx = 0;
let authenticErrors = 0;
let otherErrors = 0;
let signatureRefusals = 0;
const inflight = new Set();
const latencies = [];
const t0 = performance.now();
for (let i = 0; i < CASES && !crashed; i++) {
  while (inflight.size >= CONCURRENCY) await Promise.race(inflight);
  const c = makeCase(i, pool);
  // a redelivery goes once the first delivery of its body was answered
  if (c.redeliveryOf) await c.redeliveryOf;
  let expectStatus = c.expectStatus;
  if (c.authentic) {
    const e = expectFor(c.body);
    expectStatus = e.status;
    authenticShas.add(createHash('sha256').update(c.body).digest('hex'));
    if (e.status === 200) for (const k of keysOf(e.payload, c.body)) expectedKeys.add(k);
    if (c.plainWamid) plainWamids.push(c.plainWamid);
  } else signatureRefusals++;
  const sentAt = performance.now();
  const p = send(c).then((res) => {
    latencies.push(performance.now() - sentAt);
    if ((i + 1) % 1000 === 0 && process.env.BENCH_PROGRESS)
      console.log(`  ${i + 1} cases after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const k = byKind.get(c.kind) ?? { cases: 0, statuses: new Map() };
    k.cases++;
    const label = res.error ? `error ${res.error}` : String(res.status);
    k.statuses.set(label, (k.statuses.get(label) ?? 0) + 1);
    byKind.set(c.kind, k);
    if (c.authentic && res.status >= 500) authentic5xx++;
    if (res.error) {
      // a 413 may be followed by a reset while the client still writes the rest of a body the server will not read
      const tolerated =
        expectStatus === 413 && (res.status === 413 || ['EPIPE', 'ECONNRESET'].includes(res.error));
      if (!tolerated) {
        if (c.authentic) authenticErrors++;
        else otherErrors++;
        mismatches.push(`case ${i} (${c.kind}): ${label}, expected ${expectStatus}`);
      }
    } else if (res.status !== expectStatus) {
      mismatches.push(`case ${i} (${c.kind}): HTTP ${res.status}, expected ${expectStatus}`);
    }
  });
  inflight.add(p);
  p.finally(() => inflight.delete(p));
  if (c.authentic && !c.kind.startsWith('redelivery') && expectStatus === 200 && c.body.length < 64 * 1024)
    pool.push({ index: i, body: c.body, headers: c.headers, done: p });
}
await Promise.all([...inflight]);
const sendSeconds = (performance.now() - t0) / 1000;
probing = false;
await prober;
clearInterval(sampler);
const mem = procStatus();
const cpu = { receiver: receiverCpu(), bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 };
const aliveAtEnd = !crashed && child.exitCode === null;
agent.destroy();
stopping = true;
child.kill('SIGTERM');
const code = await exited;

// ---------------------------------------------------------------------------------------------------------
// The store

const conn = new Database(db, { readonly: true });
const storedKeys = conn.prepare('SELECT dedupe_key AS k FROM webhook_events').pluck().all().map(comparable);
const storedKeySet = new Set(storedKeys);
const missing = [...expectedKeys].filter((k) => !storedKeySet.has(k));
const extra = storedKeys.filter((k) => !expectedKeys.has(k));
const keyTwice = storedKeys.length - storedKeySet.size;
const payloadShas = conn.prepare('SELECT body_sha256 AS s FROM webhook_payloads').pluck().all();
const bodyTwice = payloadShas.length - new Set(payloadShas).size;
const notAuthentic = payloadShas.filter((s) => !authenticShas.has(s)).length;
const forgedStored =
  conn.prepare("SELECT COUNT(*) FROM webhook_payloads WHERE body LIKE '%wamid.forged.%'").pluck().get() +
  conn.prepare("SELECT COUNT(*) FROM webhook_events WHERE data LIKE '%wamid.forged.%'").pluck().get() +
  conn.prepare("SELECT COUNT(*) FROM message_statuses WHERE wamid LIKE 'wamid.forged.%'").pluck().get();
const plainCounts = new Map(
  conn
    .prepare(
      "SELECT wamid, COUNT(*) AS n FROM message_statuses WHERE wamid LIKE 'wamid.plain.%' GROUP BY wamid",
    )
    .all()
    .map((row) => [row.wamid, row.n]),
);
const plainWrong =
  plainWamids.filter((w) => plainCounts.get(w) !== 1).length + (plainCounts.size - plainWamids.length);
const countedRefusals = conn
  .prepare(
    "SELECT COALESCE(SUM(count), 0) FROM webhook_rejection_counts WHERE reason IN ('missing_signature', 'malformed_signature', 'bad_signature')",
  )
  .pluck()
  .get();
const events = storedKeys.length;
const payloads = payloadShas.length;
conn.close();
rmSync(home, { recursive: true, force: true });
const totalSeconds = (performance.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------------------
// Figures

const mb = (x) => (Number.isFinite(x) ? `${x.toFixed(0)} MB` : 'n/a');
console.log(
  `${CASES} cases (seed ${SEED}), ${CONCURRENCY} at a time, sent and answered in ${sendSeconds.toFixed(1)} s`,
);
for (const [kind, k] of [...byKind].sort((a, b) => b[1].cases - a[1].cases)) {
  const st = [...k.statuses].map(([s, n]) => `${s} x${n}`).join(', ');
  console.log(`  ${kind.padEnd(38)} ${String(k.cases).padStart(6)}  ${st}`);
}
latencies.sort((a, b) => a - b);
const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
console.log(
  `time per case (slow bodies included): p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(0)} ms`,
);
console.log(
  `crashes: ${crashed ? 1 : 0}${crashed ? ` (${crashed})` : ''}; alive at the end: ${aliveAtEnd}; handshake probes failed: ${probeFailures.length} of ${probes}`,
);
console.log(
  `status not the expected one: ${mismatches.length}; 5xx for authentic bodies: ${authentic5xx}; connection errors: ${authenticErrors} authentic, ${otherErrors} other`,
);
console.log(
  `store: ${events} events (expected keys ${expectedKeys.size}; missing ${missing.length}, unexpected ${extra.length}, twice ${keyTwice}), ${payloads} payloads (stored twice ${bodyTwice}, not from an authentic body ${notAuthentic}); plain statuses not stored exactly once: ${plainWrong} of ${plainWamids.length}`,
);
console.log(
  `forged/unsigned: ${signatureRefusals} sent, ${forgedStored} rows stored from them, ${countedRefusals} signature failures counted`,
);
console.log(`events printed by serve: ${eventLines} (stored ${events}); stderr lines ${stderrLines}`);
console.log(
  `receiver memory: RSS ${mb(startRss)} at start, peak ${mb(mem?.hwm)} (VmHWM; sampled VmRSS max ${mb(sampledPeak)}), target < ${TARGET_PEAK_RSS_MB} MB`,
);
console.log(
  `total time ${totalSeconds.toFixed(1)} s (CPU: receiver ${cpu.receiver.toFixed(1)} s, this client ${cpu.bench.toFixed(1)} s); receiver exit ${code} after SIGTERM`,
);

const problems = [];
if (CASES < MIN_CASES) problems.push(`only ${CASES} cases (at least ${MIN_CASES})`);
if (crashed || !aliveAtEnd) problems.push(`the receiver crashed: ${crashed ?? 'not alive at the end'}`);
if (probeFailures.length)
  problems.push(`${probeFailures.length} handshake probes failed (${probeFailures.slice(0, 3).join('; ')})`);
if (authentic5xx) problems.push(`${authentic5xx} authentic bodies answered 5xx`);
if (mismatches.length)
  problems.push(`${mismatches.length} unexpected answers: ${mismatches.slice(0, 5).join('; ')}`);
if (missing.length || extra.length || keyTwice)
  problems.push(
    `events not stored exactly once: missing ${missing.slice(0, 3).join(', ')}…, unexpected ${extra.slice(0, 3).join(', ')}…`,
  );
if (bodyTwice || notAuthentic)
  problems.push(`payloads: ${bodyTwice} stored twice, ${notAuthentic} not from an authentic body`);
if (plainWrong) problems.push(`${plainWrong} plain statuses not stored exactly once`);
if (forgedStored) problems.push(`${forgedStored} rows stored from forged or unsigned bodies`);
if (countedRefusals !== signatureRefusals)
  problems.push(`${countedRefusals} signature failures counted, ${signatureRefusals} sent`);
if (eventLines !== events) problems.push(`${eventLines} events printed, ${events} stored`);
if (!(mem?.hwm < TARGET_PEAK_RSS_MB))
  problems.push(`peak RSS ${mb(mem?.hwm)} (target < ${TARGET_PEAK_RSS_MB} MB)`);
if (totalSeconds > CEILING_S)
  problems.push(`the run took ${totalSeconds.toFixed(0)} s (ceiling ${CEILING_S} s)`);
if (code !== 0) problems.push(`receiver exit ${code}${stderrTail}`);
if (problems.length) {
  console.log(`MISSED: ${problems.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('OK: target met');
}
