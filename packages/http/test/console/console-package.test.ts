// The console ships inside @dromedary/http's tarball: its browser build is in `dist`, and every module the page
// loads is there too.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { CONSOLE_HTML } from '../../src/management/console-page.js'
import { ensureBuilt } from '../../../../test/support/example-process.js'

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url))
const run = promisify(execFile)

// The orders example references @dromedary/http, so building it builds the package and its browser code.
beforeAll(() => ensureBuilt('orders'), 120_000)

describe('@dromedary/http package', () => {
  it('packs the console scripts with every module they import, and the server code that serves them', async () => {
    const { stdout } = await run('pnpm', ['pack', '--dry-run', '--json'], { cwd: PACKAGE })
    // `prepack` (tsc -b) may print before the JSON.
    const json = stdout.slice(stdout.indexOf('\n{') + 1)
    const files = new Set((JSON.parse(json) as { files: Array<{ path: string }> }).files.map((f) => f.path))
    const entry = /<script type="module" src="console\/([a-z-]+\.js)">/.exec(CONSOLE_HTML)?.[1]
    expect(entry).toBe('main.js')
    // Walk the module graph from the entry the page loads, as the browser does.
    const seen = new Set<string>()
    const queue = [entry!]
    while (queue.length > 0) {
      const name = queue.shift()!
      if (seen.has(name)) continue
      seen.add(name)
      expect(files, `dist/browser/console/${name}`).toContain(`dist/browser/console/${name}`)
      const code = await readFile(new URL(`dist/browser/console/${name}`, `file://${PACKAGE}`), 'utf8')
      for (const m of code.matchAll(/^import .* from '\.\/([a-z-]+\.js)';?$/gm)) queue.push(m[1]!)
      expect(code).not.toMatch(/^import .* from '(?!\.\/)/m)
    }
    expect(seen.size).toBeGreaterThan(5)
    for (const file of ['console-routes.js', 'console-feed.js', 'console-assets.js', 'console-page.js'])
      expect(files).toContain(`dist/management/${file}`)
  })
})
