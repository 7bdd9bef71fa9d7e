// Suites that need a program from a Debian package (chromium, prometheus): they fail under CI=true when it is
// missing (.ci/run installs it) and are skipped with the reason elsewhere.
import { existsSync } from 'node:fs'

/**
 * Why `path` cannot be used, or undefined when it exists. Under `CI=true` a missing program throws instead, so
 * the suite fails and says how to install it.
 */
export function missingTool(path: string, aptPackage: string, suite: string): string | undefined {
  if (existsSync(path)) return undefined
  const why = `${path} is not installed; install it with: apt-get update && apt-get install -y ${aptPackage}`
  if (process.env.CI === 'true') throw new Error(`${why} (CI=true requires it for ${suite})`)
  return why
}
