import { SECRET_ENV } from '../../config/settings.js';
import { formatDuration } from '../format.js';
import type { CheckDefinition, DoctorFacts } from '../types.js';
import { describeError, fail, pass, skip, warn } from './common.js';

/** The oldest Node.js major wacx runs on (package.json engines). */
export const MIN_NODE_MAJOR = 20;
/** End of life of Node.js release lines (nodejs.org release schedule). */
export const NODE_END_OF_LIFE: Readonly<Record<number, string>> = {
  18: '2025-04-30',
  19: '2023-06-01',
  20: '2026-04-30',
  21: '2024-06-01',
  22: '2027-04-30',
  23: '2025-06-01',
  24: '2028-04-30',
  25: '2026-06-01',
  26: '2029-04-30',
};

const SOURCE_TEXT: Record<string, string> = {
  env: 'the environment',
  keychain: 'the OS keychain',
  file: 'the config file',
  flag: 'a flag',
  profile: 'the profile',
  default: 'the default',
  unset: 'nowhere',
};

function profileHint(f: DoctorFacts): string {
  const others = f.config.profileNames.filter((n) => n !== f.config.profileName);
  const pick = others.length ? ` or pick a saved profile with --profile (${others.join(', ')})` : '';
  return `Run \`wacx onboard\` (or \`wacx auth login\`) to create profile "${f.config.profileName}"${pick}.`;
}

export const SETUP_CHECKS: CheckDefinition[] = [
  {
    id: 'setup.node',
    group: 'Set-up',
    title: 'Node.js version',
    run(f) {
      const major = Number(f.nodeVersion.replace(/^v/, '').split('.')[0]);
      if (!Number.isFinite(major) || major < MIN_NODE_MAJOR) {
        return fail(
          `Node.js ${f.nodeVersion}: wacx needs ${MIN_NODE_MAJOR} or newer`,
          'Install Node.js 22 or 24 (LTS).',
        );
      }
      const eol = NODE_END_OF_LIFE[major];
      if (eol && Date.parse(`${eol}T00:00:00Z`) <= f.now) {
        return {
          status: 'warn',
          detail: `${f.nodeVersion}: this release line reached end of life on ${eol} (no more security fixes)`,
          fix: 'Upgrade to a maintained LTS release (Node.js 22 or 24).',
        };
      }
      return pass(f.nodeVersion);
    },
  },
  {
    id: 'setup.profile',
    group: 'Set-up',
    title: 'Profile',
    run(f) {
      const c = f.config;
      if (c.profileExists) {
        const n = c.profileNames.length;
        return pass(`"${c.profileName}" in ${c.configPath}${n > 1 ? ` (${n} profiles)` : ''}`);
      }
      const fromEnv = c.token.present && c.wabaId.value && c.phoneNumberId.value;
      if (fromEnv) {
        return pass(`no saved profile "${c.profileName}": token and ids come from the environment or flags`);
      }
      return {
        status: 'fail',
        detail: `no saved profile "${c.profileName}" and no token and ids in the environment`,
        fix: profileHint(f),
      };
    },
  },
  {
    id: 'setup.config_mode',
    group: 'Set-up',
    title: 'Config file permissions',
    run(f) {
      const c = f.config;
      if (c.configMode === null) return skip(`no config file at ${c.configPath}`);
      const octal = c.configMode.toString(8).padStart(4, '0');
      if ((c.configMode & 0o077) === 0) return pass(`mode ${octal} ${c.configPath}`);
      const detail = `mode ${octal}: ${c.configPath} is readable by other users${c.configHoldsSecrets ? ' and holds secrets' : ''}`;
      const fix = `chmod 600 ${c.configPath}`;
      return c.configHoldsSecrets ? fail(detail, fix) : warn(detail, fix);
    },
  },
  {
    id: 'setup.secrets',
    group: 'Set-up',
    title: 'Secrets',
    run(f) {
      const c = f.config;
      const where = (s: { source: string }, env: string) =>
        s.source === 'env' ? `${SOURCE_TEXT.env} (${env})` : (SOURCE_TEXT[s.source] ?? s.source);
      if (!c.token.present) {
        return fail(
          `no access token (looked in ${SECRET_ENV.token}, the OS keychain and the config file)`,
          'Run `wacx auth login`, or set WACX_TOKEN.',
        );
      }
      const token = `token from ${where(c.token, SECRET_ENV.token)}`;
      if (!c.appSecret.present) {
        return warn(
          `${token}; no app secret: the token is checked with itself, the app's webhook fields cannot be read and requests carry no appsecret_proof`,
          'Set WACX_APP_SECRET (App Dashboard › App settings › Basic), or store it with `wacx auth login`.',
        );
      }
      return pass(`${token}, app secret from ${where(c.appSecret, SECRET_ENV.appSecret)}`);
    },
  },
  {
    id: 'setup.api',
    group: 'Set-up',
    title: 'Graph API reachable',
    run(f) {
      const url = `${f.config.graphUrl.value ?? ''} ${f.config.apiVersion.value ?? ''}`.trim();
      if (f.api.state === 'skipped') return skip(f.api.reason, f.api.fix);
      if (f.api.state === 'error') {
        const e = f.api.error;
        return fail(
          e.network ? `API unreachable: ${e.message}` : `cannot call the API: ${describeError(e)}`,
          e.network
            ? `Check the network and the Graph URL (${url}): \`wacx config get graphUrl\`. Run with --offline to check only local things.`
            : 'Fix the Graph URL or API version (`wacx config set graphUrl …`, `wacx config set apiVersion v25.0`).',
        );
      }
      return pass(`${url} answered in ${formatDuration(f.api.value.receivedAt - f.api.value.sentAt)}`);
    },
  },
  {
    id: 'setup.clock_skew',
    group: 'Set-up',
    title: 'Clock skew',
    run(f, o) {
      if (f.api.state === 'skipped') return skip(f.api.reason, f.api.fix);
      if (f.api.state === 'error') return skip('API unreachable (see setup.api)');
      const p = f.api.value;
      if (p.serverDate === null) return skip("the API's answer carried no Date header");
      // The Date header has 1 s resolution: the server's time lies in [date, date + 1 s).
      const localMid = (p.sentAt + p.receivedAt) / 2;
      const skew = p.serverDate + 500 - localMid;
      const tolerance = 500 + (p.receivedAt - p.sentAt) / 2;
      const abs = Math.max(0, Math.abs(skew) - tolerance);
      const dir = skew > 0 ? 'behind' : 'ahead of';
      const detail =
        abs === 0
          ? `local clock agrees with the API's Date header (within ${formatDuration(tolerance)})`
          : `local clock is ${formatDuration(abs)} ${dir} the API's Date header`;
      const fix =
        'Turn on time synchronisation (NTP) on this machine: 24-hour windows, webhook ages and appsecret_time depend on it.';
      if (abs >= o.skewFailMs) return fail(detail, fix);
      if (abs >= o.skewWarnMs) return warn(detail, fix);
      return pass(detail);
    },
  },
];
