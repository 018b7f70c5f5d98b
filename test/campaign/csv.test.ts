import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CsvEvent, readCsv } from '../../src/lib/campaign/csv.js';

const dir = mkdtempSync(join(tmpdir(), 'wacx-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(content: string, opts?: { start?: number; linesBefore?: number }): Promise<CsvEvent[]> {
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(path, content);
  const out: CsvEvent[] = [];
  for await (const e of readCsv(path, opts)) out.push(e);
  return out;
}
const summary = (events: CsvEvent[]) =>
  events.map((e) => (e.type === 'record' ? `${e.line}:${e.fields.join('|')}` : `${e.line}:ERR ${e.code}`));

describe('readCsv', () => {
  it('strips the BOM, handles quoted commas, CRLF and fields spanning lines', async () => {
    const ev = await read('\ufeffphone,name\r\n+4915112345678,"x\r\ny"\r\n\r\n+4915112345670,"a, ""b"""\r\n');
    expect(summary(ev)).toEqual(['1:phone|name', '2:+4915112345678|x\r\ny', '5:+4915112345670|a, "b"']);
  });
  it('skips blank lines and keeps line numbers', async () => {
    const ev = await read('phone,name\n\n+4915112345678,a\n\n\n+4915112345670,c');
    expect(summary(ev)).toEqual(['1:phone|name', '3:+4915112345678|a', '6:+4915112345670|c']);
  });
  it('reports a broken closing quote at its line and keeps reading the next lines', async () => {
    const ev = await read(
      'phone,name\n+4915112345678,a\n+4915112345679,"bad"x\n+4915112345670,c\n+4915112345671,d\n',
    );
    expect(summary(ev)).toEqual([
      '1:phone|name',
      '2:+4915112345678|a',
      '3:ERR CSV_INVALID_CLOSING_QUOTE',
      '4:+4915112345670|c',
      '5:+4915112345671|d',
    ]);
  });
  it('reports a quote never closed at the line where it opens', async () => {
    const ev = await read('phone,name\n+4915112345678,a\n+4915112345679,"open\n+4915112345670,c\n');
    expect(summary(ev)).toEqual([
      '1:phone|name',
      '2:+4915112345678|a',
      '3:ERR CSV_QUOTE_NOT_CLOSED',
      '4:+4915112345670|c',
    ]);
  });
  it('reports a quote inside an unquoted field', async () => {
    const ev = await read('phone,name\n+4915112345679,ab"c\n+4915112345670,c\n');
    expect(summary(ev)).toEqual(['1:phone|name', '2:ERR INVALID_OPENING_QUOTE', '3:+4915112345670|c']);
  });
  it('resumes at a byte offset with the right line numbers', async () => {
    const content = 'phone,name\n+4915112345678,"x\ny"\n+4915112345670,c\n+4915112345671,d\n';
    const all = await read(content);
    const second = all[1]!;
    expect(second.type).toBe('record');
    const rest = await read(content, { start: second.end, linesBefore: second.endLines });
    expect(summary(rest)).toEqual(['4:+4915112345670|c', '5:+4915112345671|d']);
  });
  it('reads a file of many chunks the same as its lines say: characters, quoted line breaks and records cut at any byte', async () => {
    // multi-byte characters (2, 3 and 4 bytes in UTF-8) and quoted line breaks at every offset, over several 64 KB
    // chunks and the slices each chunk is parsed in
    const names = ['Zoë', '東京', 'a😀b', 'x\ny', 'plain'];
    const lines: string[] = ['phone,name'];
    const expected: string[] = ['1:phone|name'];
    let line = 2;
    for (let i = 0; i < 8000; i++) {
      const name = `${names[i % names.length]!}${'é'.repeat(i % 7)}`;
      lines.push(`+49151${String(i).padStart(8, '0')},"${name}"`);
      expected.push(`${line}:+49151${String(i).padStart(8, '0')}|${name}`);
      line += 1 + (name.match(/\n/g)?.length ?? 0);
    }
    const content = `${lines.join('\n')}\n`;
    expect(Buffer.byteLength(content)).toBeGreaterThan(3 * 64 * 1024);
    const events = await read(content);
    expect(summary(events)).toEqual(expected);
    const last = events.at(-1)!;
    expect(last.end).toBe(Buffer.byteLength(content));
  });
});
