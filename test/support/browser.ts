// Helpers for the end-to-end tests in a real browser: Debian's Chromium driven by playwright-core, each run with a
// fresh profile directory. Chromium is a system package (`apt-get install -y chromium`); `.ci/run` installs it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { missingTool } from './system-tool.js'

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

/** Why the browser tests cannot run here (see `missingTool`), or undefined when they can. */
export function browserMissing(): string | undefined {
  return missingTool(CHROMIUM, 'chromium', 'the console end-to-end tests')
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
