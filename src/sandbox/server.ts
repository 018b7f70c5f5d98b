/**
 * `wacx sandbox`: a stateful local emulator of the WhatsApp Cloud API (Graph API wire format), used by the
 * demo, every end-to-end test and users' CI. node:http only: it shares Meta's rules with lib/ (template
 * checks) but never the client's transport.
 */
import { seedActivity } from './activity.js';
import { controlRouter, flush } from './control.js';
import { SandboxCore } from './core.js';
import { graphRouter } from './graph.js';
import type { SandboxOptions } from './options.js';
import { applyScenario, parseScenarioSpec, SCENARIOS } from './scenarios.js';
import { SEED } from './seed.js';

export type { SandboxOptions } from './options.js';
export { SEED } from './seed.js';
export { SCENARIOS };

export interface SandboxServer {
  /** http://127.0.0.1:PORT */
  url: string;
  seed: typeof SEED;
  close(): Promise<void>;
  /** Runs pending asynchronous work (reviews, statuses, syncs, retries) to completion. */
  flush(): Promise<void>;
  /** The app secret webhooks are signed with. */
  appSecret: string;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxServer> {
  const core = new SandboxCore(options);
  core.setRouters(graphRouter, controlRouter);
  await core.listen();
  core.resetWorld();
  core.scheduler.afterRun = () => core.flushStatuses();
  try {
    if (options.scenario) {
      const { name, params } = parseScenarioSpec(options.scenario);
      applyScenario(core, name, params);
    }
    if (options.seedActivity) await seedActivity(core);
  } catch (error) {
    await core.close();
    throw error;
  }
  core.log(`sandbox listening on ${core.url}`);
  return {
    url: core.url,
    seed: SEED,
    appSecret: core.appSecret,
    close: () => core.close(),
    flush: async () => {
      await flush(core);
    },
  };
}
