// Helpers for the end-to-end tests in a real browser: Debian's Chromium driven by playwright-core, each run with a
// fresh profile directory. Chromium is a system package (`apt-get install -y chromium`); `.ci/run` installs it.
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium'

/** Flags for a quiet headless run in a container (no sandbox: tests run as root). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
]

/**
 * Why the browser tests cannot run here, or undefined when they can. Under `CI=true` a missing browser is an
 * error (the suite must fail, not skip); elsewhere the caller skips with this reason.
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined
  const why = `Chromium is not installed at ${CHROMIUM}; install it with: apt-get update && apt-get install -y chromium`
  if (process.env.CI === 'true')
    throw new Error(`${why} (CI=true requires it for the console end-to-end tests)`)
  return why
}

/** A browser with a fresh profile; `close()` ends it and removes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext
  close(): Promise<void>
}

/** Starts Chromium with a new `--user-data-dir` made by mkdtemp. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'dromedary-chromium-'))
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    })
    return {
      context,
      async close() {
        await context.close()
        await rm(profile, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await rm(profile, { recursive: true, force: true })
    throw err
  }
}
