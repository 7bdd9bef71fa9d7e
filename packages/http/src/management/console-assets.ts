import { readdir, readFile } from 'node:fs/promises'
import { CONSOLE_CSS, CONSOLE_ICON } from './console-page.js'

/**
 * Where the browser build of `packages/http/console` lands. Resolved from this module, which sits two levels
 * below the package root both as source (`src/management`) and compiled (`dist/management`).
 */
export const CONSOLE_ASSET_DIR = new URL('../../dist/browser/console/', import.meta.url)

/** A file the console serves. */
export interface ConsoleAsset {
  readonly contentType: string
  readonly body: string
}

const JS = 'text/javascript; charset=utf-8'
const CSS = 'text/css; charset=utf-8'
const SVG = 'image/svg+xml'
/** Names a console asset may have: no path separators, no dot files, only what the build produces. */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.js$/

/**
 * The console's scripts, read once from the package's `dist` (on first request) and kept in memory; the
 * stylesheet and icon are compiled in. Only `.js` files of the build directory are served, by exact name.
 */
export class ConsoleAssets {
  readonly #dir: URL
  #scripts: Promise<ReadonlyMap<string, string>> | undefined

  constructor(dir: URL = CONSOLE_ASSET_DIR) {
    this.#dir = dir
  }

  /** The asset called `name`, or undefined when there is none (or the browser build is missing). */
  async get(name: string): Promise<ConsoleAsset | undefined> {
    if (name === 'console.css') return { contentType: CSS, body: CONSOLE_CSS }
    if (name === 'icon.svg') return { contentType: SVG, body: CONSOLE_ICON }
    if (!ASSET_NAME.test(name)) return undefined
    const body = (await this.#load()).get(name)
    return body === undefined ? undefined : { contentType: JS, body }
  }

  async #load(): Promise<ReadonlyMap<string, string>> {
    this.#scripts ??= readScripts(this.#dir)
    const scripts = await this.#scripts
    // Not built yet (a test run from source): look again next time instead of caching the absence.
    if (scripts.size === 0) this.#scripts = undefined
    return scripts
  }
}

async function readScripts(dir: URL): Promise<ReadonlyMap<string, string>> {
  const scripts = new Map<string, string>()
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return scripts
  }
  for (const name of names)
    if (ASSET_NAME.test(name)) scripts.set(name, await readFile(new URL(name, dir), 'utf8'))
  return scripts
}
