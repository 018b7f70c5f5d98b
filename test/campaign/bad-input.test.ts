/**
 * A corpus of broken CSVs and bad invocations. Each case: the message names the line (file.csv:N) or the flag,
 * the exit code is 2 (with --strict for row problems), and nothing is sent nor written to the ledger.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/lib/campaign/ledger.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { readStore, storeEnv } from '../helpers/backends.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshLocation, type TestBackend } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { countBy, ledgerRows, orderSendArgs, phone } from './helpers.js';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox();
});
afterAll(async () => {
  await sb?.close();
});
beforeEach(async () => {
  await sb.control('reset', {});
});

const ok = (i: number) => `+${phone(i)},Name ${i},A-${i}`;
const HEADER = 'phone,name,order';
let n = 0;

function csv(content: string): { path: string; name: string } {
  const name = `broken-${++n}.csv`;
  const path = join(sb.home, name);
  writeFileSync(path, content);
  return { path, name };
}

/** A new store for one case: `name`.db in the sandbox's HOME, or a new PostgreSQL database. */
function storeAt(name: string, backend: TestBackend = 'sqlite'): StoreLocation {
  return freshLocation(backend, join(sb.home, `${name}.db`));
}

async function send(path: string, extra: string[] = [], db = storeAt(`ledger-${n}`)) {
  const r = await runCli([...orderSendArgs(path), ...extra], { env: sb.env(storeEnv(db)) });
  return { ...r, db };
}

/** The CLI's environment with no API at its address: a check made after the first request would fail (exit 1). */
function offline(db: StoreLocation): NodeJS.ProcessEnv {
  return { ...sb.env(storeEnv(db)), WACX_GRAPH_URL: 'http://127.0.0.1:9' };
}

async function nothingSent(db: StoreLocation): Promise<void> {
  const msgs = await sb.control<unknown[]>('messages');
  expect(msgs).toHaveLength(0);
  const rows = readStore(
    db,
    'campaign_rows',
    (d) => d.prepare('SELECT COUNT(*) FROM campaign_rows').pluck().get(),
    0,
  );
  expect(rows).toBe(0);
}

const CORPUS: { name: string; content: string; line: number; says: RegExp; extra?: string[] }[] = [
  {
    name: 'invalid phone number',
    content: `${HEADER}\n${ok(1)}\n+49151,Bad,A-2\n${ok(3)}\n`,
    line: 3,
    says: /not a valid phone number/,
  },
  {
    name: 'letters in the phone column',
    content: `${HEADER}\n${ok(1)}\n${ok(2)}\ncall me,Bad,A-3\n`,
    line: 4,
    says: /valid phone number|country code/,
  },
  {
    name: 'missing parameter (empty cell)',
    content: `${HEADER}\n${ok(1)}\n${ok(2)}\n+${phone(3)},,A-3\n`,
    line: 4,
    says: /missing body \{\{1\}\}/,
  },
  {
    name: 'too many fields',
    content: `${HEADER}\n${ok(1)}\n${ok(2)}\n${ok(3)}\n${ok(4)},extra\n`,
    line: 5,
    says: /4 fields, the header has 3/,
  },
  {
    name: 'too few fields',
    content: `${HEADER}\n+${phone(1)},Name\n${ok(2)}\n`,
    line: 2,
    says: /2 fields, the header has 3/,
  },
  {
    name: 'broken closing quote',
    content: `${HEADER}\n${ok(1)}\n+${phone(2)},"Na"me,A-2\n${ok(3)}\n`,
    line: 3,
    says: /broken quoting/,
  },
  {
    name: 'quote never closed',
    content: `${HEADER}\n${ok(1)}\n${ok(2)}\n+${phone(3)},"Name,A-3\n${ok(4)}\n`,
    line: 4,
    says: /never closed/,
  },
  {
    name: 'quote inside an unquoted field',
    content: `${HEADER}\n${ok(1)}\n+${phone(2)},Na"me,A-2\n`,
    line: 3,
    says: /quote inside an unquoted field/,
  },
  {
    name: 'line break inside a parameter',
    content: `${HEADER}\n${ok(1)}\n+${phone(2)},"two\nlines",A-2\n${ok(3)}\n`,
    line: 3,
    says: /line break/,
  },
  {
    name: 'five spaces in a parameter',
    content: `${HEADER}\n${ok(1)}\n+${phone(2)},a     b,A-2\n`,
    line: 3,
    says: /more than 4 spaces/,
  },
  {
    name: 'national number without --default-country',
    content: `${HEADER}\n${ok(1)}\n0151 23456789,Nat,A-2\n`,
    line: 3,
    says: /no country code/,
  },
  {
    name: 'BOM and CRLF, error after a quoted field spanning lines',
    content: `\ufeff${HEADER}\r\n+${phone(1)},"Multi\r\nLine",A-1\r\n${ok(2)}\r\n+4915,Bad,A-3\r\n`,
    line: 5,
    says: /not a valid phone number/,
  },
];

// the CSV's rows are read after the store is opened: every case on both backends
describe.each(BACKENDS)(
  'bad CSV rows: with --strict, exit 2, the line named, nothing sent (%s)',
  (backend) => {
    for (const c of CORPUS) {
      it(c.name, async () => {
        const f = csv(c.content);
        const r = await send(f.path, ['--strict', ...(c.extra ?? [])], storeAt(`ledger-${n}`, backend));
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`${f.name}:${c.line}`);
        expect(r.stderr).toMatch(c.says);
        await nothingSent(r.db);
      });
    }

    it('without --strict, invalid rows are skipped and reported with their lines; the rest is sent; exit 3', async () => {
      const f = csv(
        `${HEADER}\n${ok(1)}\n+49151,Bad,A-2\n${ok(3)}\n+${phone(4)},"x"y,A-4\n${ok(5)}\n${ok(1)}\n`,
      );
      const r = await send(f.path, ['--rate', '20'], storeAt(`ledger-${n}`, backend));
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`${f.name}:3: skipped`);
      expect(r.stderr).toContain(`${f.name}:5: skipped`);
      const msgs = await sb.control<{ to: string }[]>('messages');
      expect(msgs.map((m) => m.to).sort()).toEqual([phone(1), phone(3), phone(5)].sort());
      const states = countBy(ledgerRows(r.db), (x) => `${x.state}:${x.reason?.split(':')[0] ?? ''}`);
      expect(states).toEqual({
        'sent:': 3,
        'skipped:invalid_phone': 1,
        'skipped:malformed_csv': 1,
        'skipped:duplicate': 1,
      });
      expect(r.stdout).toMatch(/sent\s+3/);
    });
  },
);

interface BadInvocation {
  name: string;
  file?: string;
  args?: string[];
  says: RegExp;
  code?: number;
}

function badInvocation(c: BadInvocation, backend: TestBackend = 'sqlite'): void {
  it(c.name, async () => {
    const f = csv(c.file ?? '');
    const r = await send(f.path, c.args ?? [], storeAt(`ledger-${n}`, backend));
    expect(r.code, r.stderr).toBe(c.code ?? 2);
    expect(r.stderr).toMatch(c.says);
    await nothingSent(r.db);
  });
}

// these stop before the store is opened (the flags and the CSV's header are checked first): SQLite only
describe('bad files and flags: exit 2 before anything is sent', () => {
  const cases: BadInvocation[] = [
    { name: 'empty file', file: '', says: /empty/ },
    {
      name: 'no phone column',
      file: 'name,order\nA,B\n',
      says: /No phone column.*--phone-column|--phone-column/s,
    },
    {
      name: 'mapped column missing',
      file: `${HEADER}\n${ok(1)}\n`,
      args: ['--map', 'nope=1'],
      says: /no column "nope"/,
    },
    {
      name: 'unknown country',
      file: `${HEADER}\n${ok(1)}\n`,
      args: ['--default-country', 'XX'],
      says: /--default-country/,
    },
    { name: 'bad --rate', file: `${HEADER}\n${ok(1)}\n`, args: ['--rate', 'fast'], says: /--rate/ },
  ];
  for (const c of cases) badInvocation(c);

  it('a CSV that does not exist', async () => {
    const r = await send(join(sb.home, 'missing.csv'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--csv.*no such file/);
  });
});

// these are found once the store is open (against the template and the number): on both backends
describe.each(BACKENDS)(
  'bad files and flags found with the store open: nothing sent nor written (%s)',
  (backend) => {
    const cases: BadInvocation[] = [
      {
        name: 'parameter the template does not take',
        file: `${HEADER}\n${ok(1)}\n`,
        args: ['--map', 'name=3'],
        says: /no parameter "3"/,
      },
      {
        name: 'rate above the throughput',
        file: `${HEADER}\n${ok(1)}\n`,
        args: ['--rate', '100'],
        says: /--rate.*above.*20/s,
      },
    ];
    for (const c of cases) badInvocation(c, backend);

    it('a required parameter without a column', async () => {
      const f = csv(`phone,name\n${`+${phone(1)},A`}\n`);
      const db = storeAt(`x-${n}`, backend);
      const r = await runCli(
        ['send', '--csv', f.path, '--template', 'order_update', '--language', 'en_US', '--map', 'name=1'],
        {
          env: sb.env(storeEnv(db)),
        },
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/takes body \{\{2\}\}, but no CSV column is mapped to it/);
      expect(r.stderr).toMatch(/--map COLUMN=2/);
      await nothingSent(db);
    });

    // Exit 1, as `wacx templates get` and Meta's own 132001: the name is well-formed, the account does not have it.
    it('an unknown template, or a language it does not have: exit 1, nothing sent', async () => {
      const f = csv(`${HEADER}\n${ok(1)}\n`);
      const db = storeAt(`y-${n}`, backend);
      const env = sb.env(storeEnv(db));
      const a = await runCli(['send', '--csv', f.path, '--template', 'nope', '--language', 'en_US'], { env });
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(/Template "nope" does not exist/);
      const b = await runCli(
        [
          'send',
          '--csv',
          f.path,
          '--template',
          'order_update',
          '--language',
          'fr',
          '--map',
          'name=1',
          '--map',
          'order=2',
        ],
        {
          env,
        },
      );
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/no "fr" version.*en_US/);
      expect(b.stderr).toContain('Pass --language en_US');
      await nothingSent(db);
    });

    it('a template that is not APPROVED: exit 1, nothing sent', async () => {
      const f = csv(`phone\n+${phone(1)}\n`);
      const db = storeAt(`z-${n}`, backend);
      const r = await runCli(
        ['send', '--csv', f.path, '--template', 'seasonal_promo', '--language', 'en_US'],
        {
          env: sb.env(storeEnv(db)),
        },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/PAUSED, not APPROVED: nothing was sent/);
      await nothingSent(db);
    });
  },
);

// checked before the store is opened (the resumed campaigns' checks, which read it, follow on both backends): SQLite only
describe('files are checked before the first request: exit 2 naming the flag and the path', () => {
  const root = process.getuid?.() === 0;
  const sysfsWriteOnly = '/sys/bus/pci/rescan';

  function place(name: string): string {
    const dir = join(sb.home, `${name}-${++n}`);
    mkdirSync(dir);
    return dir;
  }
  function readOnlyDir(): string {
    const dir = place('ro');
    chmodSync(dir, 0o555);
    return dir;
  }
  function unreadableFile(content: string): string {
    const path = join(place('unreadable'), 'file.csv');
    writeFileSync(path, content);
    chmodSync(path, 0o000);
    return path;
  }

  const cases: { name: string; skip?: boolean; args: () => string[]; flag: string; says: RegExp }[] = [
    {
      name: '--report in a directory that does not exist',
      args: () => ['--report', join(sb.home, 'no-such-dir', 'out.csv')],
      flag: '--report',
      says: /Cannot write the report .*no-such-dir\/out\.csv: the directory .*no-such-dir does not exist/,
    },
    {
      name: '--report naming a directory',
      args: () => ['--report', place('reports')],
      flag: '--report',
      says: /reports-\d+ is a directory/,
    },
    {
      name: '--report under a file',
      args: () => ['--report', join(csv('x').path, 'out.csv')],
      flag: '--report',
      says: /Cannot write the report .*broken-\d+\.csv\/out\.csv: a part of .* is not a directory/,
    },
    {
      name: '--report in a read-only directory',
      skip: root,
      args: () => ['--report', join(readOnlyDir(), 'out.csv')],
      flag: '--report',
      says: /Cannot write the report .*ro-\d+\/out\.csv: permission denied/,
    },
    {
      name: '--report in a place not even root can write (sysfs)',
      skip: !existsSync('/sys/kernel'),
      args: () => ['--report', '/sys/wacx-report.csv'],
      flag: '--report',
      says: /Cannot write the report \/sys\/wacx-report\.csv: permission denied/,
    },
    {
      name: '--exclude naming a directory',
      args: () => ['--exclude', place('exclude')],
      flag: '--exclude',
      says: /Cannot read .*exclude-\d+: it is a directory/,
    },
    {
      name: '--exclude without read permission',
      skip: root,
      args: () => ['--exclude', unreadableFile(`+${phone(1)}\n`)],
      flag: '--exclude',
      says: /Cannot read .*file\.csv: permission denied/,
    },
    {
      name: '--exclude that not even root can read (sysfs)',
      skip: !existsSync(sysfsWriteOnly),
      args: () => ['--exclude', sysfsWriteOnly],
      flag: '--exclude',
      says: /Cannot read \/sys\/bus\/pci\/rescan: permission denied/,
    },
  ];
  for (const c of cases) {
    it.skipIf(c.skip)(c.name, async () => {
      const f = csv(`${HEADER}\n${ok(1)}\n`);
      const db = storeAt(`preflight-${n}`);
      const r = await runCli([...orderSendArgs(f.path), ...c.args()], { env: offline(db) });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${c.flag}: `);
      expect(r.stderr).toMatch(c.says);
      expect(r.stderr).not.toMatch(/\.tmp|ENOENT|EISDIR|EACCES/);
      await nothingSent(db);
    });
  }

  it.skipIf(root)('--csv without read permission', async () => {
    const path = unreadableFile(`${HEADER}\n${ok(1)}\n`);
    const r = await runCli(orderSendArgs(path), { env: offline(storeAt('csv-perm')) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--csv: Cannot read .*file\.csv: permission denied/);
  });

  it.skipIf(!existsSync(sysfsWriteOnly))('--csv that not even root can read (sysfs)', async () => {
    const r = await runCli(orderSendArgs(sysfsWriteOnly), { env: offline(storeAt('csv-sys')) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--csv: Cannot read \/sys\/bus\/pci\/rescan: permission denied/);
  });

  it('a --map column missing from the CSV header, and --phone-column, are checked before the template is fetched', async () => {
    const f = csv(`${HEADER}\n${ok(1)}\n`);
    const a = await runCli([...orderSendArgs(f.path), '--map', 'nope=1'], {
      env: offline(storeAt('m')),
    });
    expect(a.code, a.stderr).toBe(2);
    expect(a.stderr).toMatch(new RegExp(`${f.name}:1: There is no column "nope"`));
    const b = await runCli([...orderSendArgs(f.path), '--phone-column', 'mobile'], {
      env: offline(storeAt('m')),
    });
    expect(b.code, b.stderr).toBe(2);
    expect(b.stderr).toMatch(/--phone-column: There is no column "mobile"/);
  });

  it('--template and --language that Meta could not have, and --rate above any number, before the first request', async () => {
    const f = csv(`${HEADER}\n${ok(1)}\n`);
    const env = offline(storeAt('names'));
    const args = (template: string, language: string, ...extra: string[]) => [
      'send',
      '--csv',
      f.path,
      '--template',
      template,
      '--language',
      language,
      ...extra,
    ];
    const name = await runCli(args('Order-Update', 'en_US'), { env });
    expect(name.code, name.stderr).toBe(2);
    expect(name.stderr).toMatch(/--template: "Order-Update" cannot be a template name/);
    const lang = await runCli(args('order_update', 'en-US'), { env });
    expect(lang.code, lang.stderr).toBe(2);
    expect(lang.stderr).toMatch(/--language: "en-US" is not a template language code/);
    expect(lang.stderr).toContain('Did you mean --language en_US?');
    const rate = await runCli(args('order_update', 'en_US', '--rate', '5000'), { env });
    expect(rate.code, rate.stderr).toBe(2);
    expect(rate.stderr).toMatch(/✗ --rate 5000 is above the highest throughput a number can have/);
    const resume = await runCli(['campaigns', 'resume', 'any', '--rate', '5000'], { env });
    expect(resume.code, resume.stderr).toBe(2);
    expect(resume.stderr).toMatch(/--rate 5000 is above/);
  });

  it('a --report that names the --csv or --exclude file is refused (the report would replace it)', async () => {
    const f = csv(`${HEADER}\n${ok(1)}\n`);
    const env = offline(storeAt('same'));
    const a = await runCli([...orderSendArgs(f.path), '--report', f.path], { env });
    expect(a.code, a.stderr).toBe(2);
    expect(a.stderr).toContain(`--report: ${f.path} is also the --csv file: the report would replace it.`);
    const exclude = join(sb.home, `exclude-${n}.txt`);
    writeFileSync(exclude, `+${phone(9)}\n`);
    const b = await runCli([...orderSendArgs(f.path), '--exclude', exclude, '--report', exclude], { env });
    expect(b.code, b.stderr).toBe(2);
    expect(b.stderr).toContain('is also the --exclude file');
    expect(readFileSync(f.path, 'utf8')).toBe(`${HEADER}\n${ok(1)}\n`);
  });
});

// a resumed campaign is read from the store before these checks: on both backends
describe.each(BACKENDS)('a resumed campaign is checked before the first request (%s)', (backend) => {
  /** A campaign in the ledger at `db`, from `csvPath`, with nothing read yet (as `send` leaves it before sending). */
  function storedCampaign(db: StoreLocation, id: string, csvPath: string, csvSha256: string): void {
    const store = Store.open(db);
    try {
      const ledger = new Ledger(store.db);
      const { cid } = ledger.create(
        {
          id,
          template: 'order_update',
          language: 'en_US',
          phoneNumberId: sb.seed.phoneNumbers.coex.id,
          wabaId: sb.seed.waba.id,
          csvPath,
          csvSize: 1,
          csvMtime: 0,
          csvSha256,
          options: { map: [], phoneColumn: 'phone', defaultCountry: null, exclude: null, slots: [] },
          templateSnapshot: {
            id: 't',
            name: 'order_update',
            language: 'en_US',
            category: 'UTILITY',
            status: 'APPROVED',
            components: [],
          },
        },
        Date.now(),
      );
      const columns = HEADER.split(',');
      const header = { offset: HEADER.length + 1, line: 1, nextRow: 1, done: false, columns };
      ledger.ingestBatch(cid, [], header, Date.now());
    } finally {
      store.close();
    }
  }

  it('a resumed campaign whose CSV changed is refused before the first request', async () => {
    const f = csv(`${HEADER}\n${ok(1)}\n${ok(2)}\n`);
    const db = storeAt('changed', backend);
    storedCampaign(db, 'changed', f.path, 'not-this-file');
    const r = await runCli(['campaigns', 'resume', 'changed'], { env: offline(db) });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${f.name} changed since campaign changed started`));
    expect(r.stderr).not.toMatch(/127\.0\.0\.1:9|connection refused/);
  });

  it('the same --report checks for `campaigns resume`', async () => {
    const f = csv(`${HEADER}\n${ok(1)}\n`);
    const db = storeAt('resume', backend);
    storedCampaign(db, 'resumed', f.path, 'any');
    const env = offline(db);
    const missing = await runCli(
      ['campaigns', 'resume', 'resumed', '--report', join(sb.home, 'nope', 'r.csv')],
      {
        env,
      },
    );
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(
      /--report: Cannot write the report .*nope\/r\.csv: the directory .*nope does not exist/,
    );
    const input = await runCli(['campaigns', 'resume', 'resumed', '--report', f.path], { env });
    expect(input.code, input.stderr).toBe(2);
    expect(input.stderr).toContain(
      `--report: ${f.path} is also the campaign's CSV: the report would replace it.`,
    );
  });
});
