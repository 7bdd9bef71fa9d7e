import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string, entry = 'index') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url))

export default defineConfig({
  resolve: {
    // First match wins: the subpath entry comes before its package.
    alias: {
      '@dromedary/core/testing': src('core', 'testing/index'),
      '@dromedary/core': src('core'),
      '@dromedary/amqp': src('amqp'),
      '@dromedary/http': src('http'),
      '@dromedary/postgres': src('postgres'),
      '@dromedary/nats': src('nats'),
      '@dromedary/redis': src('redis'),
    },
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'test/integration/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
    ],
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.test.json',
    },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    fileParallelism: true,
    pool: 'forks',
  },
})
