/**
 * Webhook delivery like Meta's: signed POSTs (X-Hub-Signature-256 = HMAC-SHA256 of the exact raw body, keyed
 * by the app secret), ASCII-escaped JSON, retries with exponential backoff on any answer but 200, optional
 * duplicate deliveries, the GET verification handshake, and a log for `/__sandbox/webhooks`.
 * Transport: node:http / node:https only.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { SandboxClock, Scheduler } from './clock.js';
import { asciiJson } from './http.js';

export interface DeliveryRecord {
  id: string;
  field: string;
  phone_number_id: string | null;
  body: unknown;
  raw: string;
  signature: string;
  url: string | null;
  /** Last HTTP status received (null: not attempted, or a network error). */
  status: number | null;
  attempts: number;
  /** When the webhook was emitted (ms). */
  at: number;
  delivered_at: number | null;
  /** Why it was not sent at all (app not subscribed, field not subscribed, no callback URL). */
  skipped: string | null;
  error: string | null;
  /** Set on the extra copy sent by the duplicate knob: the id of the original. */
  duplicate_of: string | null;
  state: 'pending' | 'delivered' | 'retrying' | 'failed' | 'skipped';
}

export interface WebhookConfig {
  retryBaseMs: number;
  maxAttempts: number;
  duplicateRate: number;
  concurrency: number;
  timeoutMs: number;
  escapeSlashes: boolean;
}

export type Sink = (rawBody: string, headers: Record<string, string>) => Promise<number>;

export interface WebhookHost {
  clock: SandboxClock;
  scheduler: Scheduler;
  appSecret(): string;
  sink: Sink | undefined;
  /** The sandbox's own receiver URL (handled in-process, no HTTP). */
  ownReceiverUrl(): string;
  ownVerifyToken(): string;
  random(): number;
  log(line: string): void;
}

const MAX_RECORDS = 20_000;

export function signBody(raw: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(raw, 'utf8').digest('hex')}`;
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });

interface Job {
  record: DeliveryRecord;
}

export class WebhookDispatcher {
  records: DeliveryRecord[] = [];
  config: WebhookConfig;
  private nextId = 1;
  private queue: Job[] = [];
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];
  private pendingRetries = 0;

  constructor(
    private readonly host: WebhookHost,
    config: Partial<WebhookConfig> = {},
  ) {
    this.config = {
      retryBaseMs: 1000,
      maxAttempts: 6,
      duplicateRate: 0,
      concurrency: 1,
      timeoutMs: 10_000,
      escapeSlashes: true,
      ...config,
    };
  }

  /** Builds, signs and queues one webhook; `url` null with `skipped` set means it is only logged. */
  deliver(
    field: string,
    envelope: unknown,
    target: { url: string | null; skipped: string | null; phoneNumberId: string | null },
  ): DeliveryRecord {
    const raw = asciiJson(envelope, this.config.escapeSlashes);
    const record: DeliveryRecord = {
      id: `wh_${this.nextId++}`,
      field,
      phone_number_id: target.phoneNumberId,
      body: envelope,
      raw,
      signature: signBody(raw, this.host.appSecret()),
      url: this.host.sink ? (target.url ?? 'sink:') : target.url,
      status: null,
      attempts: 0,
      at: this.host.clock.now(),
      delivered_at: null,
      skipped: target.skipped,
      error: null,
      duplicate_of: null,
      state: target.skipped ? 'skipped' : 'pending',
    };
    this.push(record);
    if (!target.skipped) this.enqueue(record);
    return record;
  }

  /** Runs the GET verification handshake against a callback URL. */
  async verifyCallback(url: string, verifyToken: string): Promise<{ ok: boolean; reason: string }> {
    const challenge = String(Math.floor(this.host.random() * 9e9) + 1e9);
    if (url === this.host.ownReceiverUrl()) {
      return verifyToken === this.host.ownVerifyToken()
        ? { ok: true, reason: 'ok' }
        : { ok: false, reason: 'HTTP Status Code = 403; HTTP Message = Forbidden' };
    }
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { ok: false, reason: "The URL couldn't be validated. Callback URL is not a valid URL" };
    }
    target.searchParams.set('hub.mode', 'subscribe');
    target.searchParams.set('hub.challenge', challenge);
    target.searchParams.set('hub.verify_token', verifyToken);
    try {
      const res = await this.request('GET', target, undefined, {});
      if (res.status !== 200) return { ok: false, reason: `HTTP Status Code = ${res.status}` };
      if (res.body.trim() !== challenge) {
        return { ok: false, reason: "The URL couldn't be validated. Response does not match challenge" };
      }
      return { ok: true, reason: 'ok' };
    } catch (error) {
      return {
        ok: false,
        reason: `The URL couldn't be validated: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  /** Resolves when nothing is queued or in flight (retries scheduled later do not count unless `includeRetries`). */
  idle(includeRetries = false): Promise<void> {
    if (this.isIdle(includeRetries)) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.isIdle(includeRetries)) resolve();
        else this.idleWaiters.push(check);
      };
      this.idleWaiters.push(check);
    });
  }

  get busy(): boolean {
    return this.queue.length > 0 || this.inflight > 0;
  }

  clear(): void {
    this.records = [];
    this.queue = [];
  }

  private isIdle(includeRetries: boolean): boolean {
    return this.queue.length === 0 && this.inflight === 0 && (!includeRetries || this.pendingRetries === 0);
  }

  private wake(): void {
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  private push(record: DeliveryRecord): void {
    this.records.push(record);
    if (this.records.length > MAX_RECORDS) this.records.splice(0, this.records.length - MAX_RECORDS);
  }

  private enqueue(record: DeliveryRecord): void {
    this.queue.push({ record });
    this.pump();
  }

  private pump(): void {
    while (this.inflight < this.config.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.inflight++;
      void this.attempt(job.record).finally(() => {
        this.inflight--;
        this.pump();
        this.wake();
      });
    }
  }

  private headers(record: DeliveryRecord): Record<string, string> {
    const sha1 = createHmac('sha1', this.host.appSecret()).update(record.raw, 'utf8').digest('hex');
    return {
      'content-type': 'application/json',
      'x-hub-signature-256': record.signature,
      'x-hub-signature': `sha1=${sha1}`,
      'user-agent': 'facebookexternalua',
    };
  }

  private async attempt(record: DeliveryRecord): Promise<void> {
    record.attempts++;
    let status: number | null = null;
    try {
      if (this.host.sink) {
        status = await this.host.sink(record.raw, this.headers(record));
      } else if (record.url === this.host.ownReceiverUrl()) {
        status = 200;
      } else if (record.url) {
        const res = await this.request('POST', new URL(record.url), record.raw, this.headers(record));
        status = res.status;
      }
      record.error = status === 200 ? null : `HTTP ${status}`;
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    }
    record.status = status;
    if (status === 200) {
      record.state = 'delivered';
      record.delivered_at = this.host.clock.now();
      if (
        record.duplicate_of === null &&
        this.config.duplicateRate > 0 &&
        this.host.random() < this.config.duplicateRate
      ) {
        const copy: DeliveryRecord = {
          ...record,
          id: `wh_${this.nextId++}`,
          status: null,
          attempts: 0,
          delivered_at: null,
          error: null,
          duplicate_of: record.id,
          state: 'pending',
        };
        this.push(copy);
        this.queue.push({ record: copy });
      }
      return;
    }
    if (record.attempts >= this.config.maxAttempts) {
      record.state = 'failed';
      this.host.log(
        `webhook ${record.id} (${record.field}) failed after ${record.attempts} attempts: ${record.error}`,
      );
      return;
    }
    record.state = 'retrying';
    const delay = this.config.retryBaseMs * 2 ** (record.attempts - 1);
    this.pendingRetries++;
    this.host.scheduler.after(delay, () => {
      this.pendingRetries--;
      this.enqueue(record);
    });
  }

  private request(
    method: 'GET' | 'POST',
    url: URL,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const mod = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? httpsAgent : httpAgent;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          agent,
          headers:
            body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          timeout: this.config.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
