import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['test/onboarding/**/*.test.ts'], setupFiles: ['/tmp/wacx-dbg/patch-setup.ts'], pool: 'forks', testTimeout: 30000 } });
