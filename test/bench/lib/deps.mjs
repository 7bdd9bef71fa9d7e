// The raw baselines use the same fastify and amqplib builds as our packages. pnpm does not hoist them to the
// root, so they are resolved from the package that depends on them.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** Imports `name` as the workspace package `pkg` (`http`, `amqp`) would. */
export async function importDependencyOf(pkg, name) {
  const require = createRequire(new URL(`../../../packages/${pkg}/package.json`, import.meta.url))
  const mod = await import(pathToFileURL(require.resolve(name)).href)
  return mod.default ?? mod
}
