/**
 * The sandbox behind the global `--sandbox` option: started in this process on an ephemeral loopback port,
 * already onboarded (seedActivity), with a throw-away config directory removed on close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SettingKey } from '../lib/config/settings.js';
import { UsageError } from '../lib/errors.js';
import type { SandboxOptions } from './options.js';
import { ScenarioError } from './scenarios.js';
import { SEED } from './seed.js';
import { startSandbox } from './server.js';

/** In-process webhook delivery: the raw body and headers; answers the HTTP status a receiver would. */
export type WebhookSink = (rawBody: string, headers: Record<string, string>) => Promise<number>;

/** A sandbox running in this process for `--sandbox` (see src/sandbox). */
export interface InProcessSandbox {
  url: string;
  settings: Partial<Record<SettingKey, string>>;
  secrets: { token: string; appSecret: string; verifyToken: string };
  /** A throw-away config directory (profile file and database) for this run. */
  configDir: string;
  close(): Promise<void>;
}

function intEnv(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : dflt;
}

export async function startInProcessSandbox(options: {
  env: NodeJS.ProcessEnv;
  /** In-process webhook delivery (the profile's webhook store); default: the sandbox's own receiver. */
  webhookSink?: SandboxOptions['webhookSink'];
}): Promise<InProcessSandbox> {
  const { env } = options;
  const configDir = mkdtempSync(join(tmpdir(), 'wacx-sandbox-'));
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({
      port: 0,
      host: '127.0.0.1',
      quiet: true,
      seedActivity: true,
      problemTemplates: false,
      reviewDelayMs: intEnv(env, 'WACX_SANDBOX_REVIEW_DELAY_MS', 300),
      statusDelayMs: intEnv(env, 'WACX_SANDBOX_STATUS_DELAY_MS', 100),
      historyDelayMs: intEnv(env, 'WACX_SANDBOX_HISTORY_DELAY_MS', 50),
      ...(env.WACX_SANDBOX_SCENARIO ? { scenario: env.WACX_SANDBOX_SCENARIO } : {}),
      ...(options.webhookSink ? { webhookSink: options.webhookSink } : {}),
    });
  } catch (error) {
    rmSync(configDir, { recursive: true, force: true });
    if (error instanceof ScenarioError)
      throw new UsageError(error.message, { location: 'WACX_SANDBOX_SCENARIO', cause: error });
    throw error;
  }
  return {
    url: sandbox.url,
    settings: {
      graphUrl: sandbox.url,
      appId: SEED.app.id,
      wabaId: SEED.waba.id,
      phoneNumberId: SEED.phoneNumbers.coex.id,
      configId: SEED.configId,
      businessId: SEED.businessId,
    },
    secrets: { token: SEED.token, appSecret: sandbox.appSecret, verifyToken: SEED.verifyToken },
    configDir,
    close: async () => {
      await sandbox.close();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}
