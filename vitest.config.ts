/** Three test projects: pure units in Node, the Durable Object inside workerd, and the real stack end to end. */
import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // The agent tests spawn the built agent, as the e2e tests do.
          globalSetup: ['test/support/agent-build-setup.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest({
            main: './src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                TM_JOIN_TOKEN: 'test-join-token',
                TM_ADMIN_TOKEN: 'test-admin-token',
                TM_AUTH_FAILURE_LIMIT: '5',
                TM_LOG_LIMIT_BYTES: '4096',
                TM_MAX_QUEUED_TASKS: '2000',
              },
            },
          }),
        ],
        // Same alias as wrangler.toml: workerd has no DOMParser for the AWS SDK's XML.
        resolve: {
          alias: { '@aws-sdk/xml-builder': './durable-objects/storage/xml-builder-shim.js' },
        },
        test: { name: 'do', include: ['test/do/**/*.test.ts'] },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/agent-build-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
