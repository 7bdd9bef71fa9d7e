// The management console end to end in a real Chromium: the orders example as users run it, watched and
// steered from the page; and a context of our own whose route ids are markup.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest'
import type { Page } from 'playwright-core'
import { createContext, type IntegrationContext } from '@dromedary/core'
import { createManagementServer, type ManagementServer } from '@dromedary/http'
import { browserMissing, launchBrowser, type TestBrowser } from '../support/browser.js'
import { ensureBuilt, freePort, ROOT, startExample, type ExampleProcess } from '../support/example-process.js'

const TOKEN = 'console-e2e-token'
const ORDER_ROUTES = ['ship', 'charge', 'audit', 'orders', 'api', 'status']
/** Set to write the mid-shutdown screenshot of docs/observability.md. */
const SCREENSHOT = process.env.UPDATE_CONSOLE_SCREENSHOT === '1'

let skipReason: string | undefined
let browser: TestBrowser | undefined

beforeAll(async () => {
  skipReason = browserMissing()
  if (skipReason !== undefined) return
  ensureBuilt('orders')
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
})

function ready(t: TestContext): TestBrowser {
  if (skipReason !== undefined) {
    console.warn(`Skipping the console browser tests: ${skipReason}`)
    t.skip()
  }
  if (browser === undefined) throw new Error('Chromium did not start')
  return browser
}

/** A page that records script errors, console errors (CSP violations land there) and every URL it requested. */
async function openPage(
  b: TestBrowser,
  url: string,
): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const page = await b.context.newPage()
  const problems: string[] = []
  const requests: string[] = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  page.on('request', (r) => requests.push(r.url()))
  await page.goto(url)
  return { page, problems, requests }
}

/** Waits for the page: generous timeouts, as the machine may be busy (the default is 1 s). */
const poll = <T>(fn: () => T | Promise<T>, timeout = 10_000) => expect.poll(fn, { timeout, interval: 50 })

const statusCell = (page: Page, routeId: string) =>
  page
    .locator('#routes tbody tr')
    .filter({ has: page.getByRole('rowheader', { name: routeId, exact: true }) })
    .locator('.badge')

/** Opens the confirmation of a row action, types `token` unless it is undefined (keep the stored one), confirms. */
async function routeAction(page: Page, action: string, routeId: string, token?: string): Promise<void> {
  await page.getByRole('button', { name: `${action} route ${routeId}`, exact: true }).click()
  const dialog = page.getByRole('dialog')
  await poll(() => dialog.isVisible()).toBe(true)
  if (token !== undefined) await dialog.getByLabel('Admin token').fill(token)
  await dialog.getByRole('button', { name: 'Confirm' }).click()
}

describe('console on the orders example', () => {
  let app: ExampleProcess | undefined
  let api = ''
  let management = ''
  let page: Page
  let problems: string[] = []
  let requests: string[] = []

  beforeAll(async () => {
    if (skipReason !== undefined) return
    const [port, managementPort] = [await freePort(), await freePort()]
    api = `http://127.0.0.1:${port}`
    management = `http://127.0.0.1:${managementPort}`
    app = startExample('orders', {
      AMQP_URL: undefined,
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      DROMEDARY_ADMIN_TOKEN: TOKEN,
      PAYMENT_DELAY_MS: '4000',
    })
    await app.waitForLine((l) => l.msg.startsWith('Orders app ready'))
  }, 20_000)

  afterAll(async () => {
    await page?.close()
    app?.kill()
  })

  it('loads from the management port and lists the routes of the orders context, live', async (t) => {
    const b = ready(t)
    ;({ page, problems, requests } = await openPage(b, `${management}/`))
    await poll(() => page.locator('#routes tbody th').allTextContents()).toEqual(ORDER_ROUTES)
    await poll(() => page.locator('#connection').textContent()).toBe('Live')
    expect(await page.locator('h1').textContent()).toBe('Dromedary orders')
    expect(await statusCell(page, 'api').textContent()).toBe('started')
    expect(await page.locator('#workers tbody th').allTextContents()).toEqual(['default', 'payments'])
  })

  it('refuses to suspend a route without the token, or with a wrong one, and leaves it started', async (t) => {
    ready(t)
    await routeAction(page, 'Suspend', 'status', '')
    await poll(() => page.locator('#action-result').textContent()).toMatch(
      /^Suspend route status: refused \(HTTP 401\)/,
    )
    await routeAction(page, 'Suspend', 'status', 'not-the-token')
    await poll(() => page.locator('#action-result').textContent()).toMatch(/refused \(HTTP 401\): A valid/)
    const routes = (await (await fetch(`${management}/routes`)).json()) as Array<{
      id: string
      status: string
    }>
    expect(routes.find((r) => r.id === 'status')?.status).toBe('started')
    expect(await statusCell(page, 'status').textContent()).toBe('started')
  })

  it('suspends a route with the token, then resumes it from the keyboard with the token kept for the tab', async (t) => {
    ready(t)
    await routeAction(page, 'Suspend', 'status', TOKEN)
    await poll(() => page.locator('#action-result').textContent()).toMatch(
      /^Suspend route status: accepted \(HTTP 200\)/,
    )
    await poll(() => statusCell(page, 'status').textContent()).toBe('suspended')
    const routes = (await (await fetch(`${management}/routes`)).json()) as Array<{
      id: string
      status: string
    }>
    expect(routes.find((r) => r.id === 'status')?.status).toBe('suspended')
    expect(await page.evaluate("sessionStorage.getItem('dromedary.console.token')")).toBe(TOKEN)

    // Keyboard only: focus Resume, Enter opens the dialog with the stored token and focus on Confirm, Enter sends.
    await page.getByRole('button', { name: 'Resume route status', exact: true }).focus()
    await page.keyboard.press('Enter')
    await poll(() => page.getByRole('dialog').isVisible()).toBe(true)
    expect(await page.getByLabel('Admin token').inputValue()).toBe(TOKEN)
    await page.keyboard.press('Enter')
    await poll(() => statusCell(page, 'status').textContent()).toBe('started')
    expect(await page.locator('#action-result').textContent()).toMatch(
      /^Resume route status: accepted \(HTTP 200\)/,
    )
  })

  it('draws a graceful stop with in-flight work on the timeline until the context has stopped', async (t) => {
    ready(t)
    // Orders a few hundred ms apart: each stays in flight for the payment delay, so the drain falls in steps.
    const sent: Promise<Response>[] = []
    for (let i = 0; i < 12; i++) {
      sent.push(
        fetch(`${api}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ customer: `console-${i}`, items: [{ sku: 'camel-plush', quantity: 1 }] }),
        }),
      )
      await new Promise((resolve) => setTimeout(resolve, 120))
    }
    expect((await Promise.all(sent)).map((r) => r.status)).toEqual(sent.map(() => 202))
    await poll(() => page.locator('#inflight-summary').textContent()).toMatch(/^\d+ in flight/)

    await page.getByRole('button', { name: 'Stop gracefully…' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click()
    await poll(() => page.locator('#action-result').textContent()).toMatch(/accepted \(HTTP 202\)/)
    const outcome = page.locator('#timeline-outcome')
    await poll(() => outcome.textContent()).toMatch(/^Draining: [1-9]\d* in flight and pending/)
    expect(await page.locator('#timeline-log li').first().textContent()).toMatch(
      /^\+0\.000 s NOTICE: intake stops/,
    )
    if (SCREENSHOT) {
      // Once half the orders have finished, so the curve shows the drain under way.
      const held = async () => Number(/Draining: (\d+)/.exec((await outcome.textContent()) ?? '')?.[1])
      const first = await held()
      await poll(held).toSatisfy((n: number) => n > 0 && n <= first / 2)
      await mkdir(join(ROOT, 'docs', 'images'), { recursive: true })
      await page.screenshot({ path: join(ROOT, 'docs', 'images', 'console-shutdown.png'), fullPage: true })
    }

    await poll(() => outcome.textContent(), 15_000).toMatch(
      /^Stopped — graceful in \d+\.\d{3} s; no exchange aborted$/,
    )
    const items = page.locator('#timeline-log li')
    const texts = await items.allTextContents()
    const kinds = await Promise.all(texts.map((_, i) => items.nth(i).getAttribute('data-kind')))
    const log = texts.map((text, i) => [kinds[i], text] as const)
    expect(log.map(([kind]) => kind)).toEqual([
      'notice',
      ...ORDER_ROUTES.map(() => 'route-stopped'),
      'now',
      'stopped',
    ])
    expect(
      log
        .filter(([kind]) => kind === 'route-stopped')
        .map(([, text]) => /Route (\S+) stopped/.exec(text ?? '')?.[1])
        .sort(),
    ).toEqual([...ORDER_ROUTES].sort())
    expect(await page.locator('#timeline-chart svg polygon').count()).toBeGreaterThan(0)
    await poll(() => page.locator('#connection').textContent()).toMatch(/The context has stopped/)
    expect(await app!.exited).toEqual({ code: 0, signal: null })
    expect(await statusCell(page, 'orders').textContent()).toBe('stopped')

    // Everything the page loaded came from the management server itself, without errors or CSP violations
    // (Chromium logs the refused actions of the test above as failed loads).
    expect(problems.filter((p) => !p.includes('status of 401 (Unauthorized)'))).toEqual([])
    expect(requests.filter((u) => !u.startsWith(`${management}/`))).toEqual([])
  }, 30_000)
})

describe('console with hostile route ids and statuses', () => {
  const ids = [
    '<script>window.__pwned = 1</script>',
    '<img src=x onerror="window.__pwned = 2">',
    'a/b?c#d %2F',
    '__proto__',
    'constructor',
  ]
  /** Statuses a future context may report; the console must show any string. */
  const statusOverride = new Map([
    ['__proto__', 'starting'],
    ['constructor', 'constructor'],
  ])
  let ctx: IntegrationContext
  let mgmt: ManagementServer

  beforeAll(async () => {
    ctx = createContext({ logger: false })
    await ctx.addRoutes((r) => {
      for (const [i, id] of ids.entries()) r.from(`direct:hostile${i}`).routeId(id).to(`log:h${i}`)
    })
    // The management server sees the context through a view whose routes() reports the statuses above.
    const view = new Proxy(ctx, {
      get(target, prop) {
        if (prop === 'routes')
          return () => target.routes().map((r) => ({ ...r, status: statusOverride.get(r.id) ?? r.status }))
        const value: unknown = Reflect.get(target, prop, target)
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    mgmt = await createManagementServer(view, { port: 0, token: TOKEN, defaultMetrics: false })
    await ctx.start()
  })

  afterAll(async () => {
    await ctx.stop({ timeoutMs: 1000 })
    await mgmt.close()
  })

  it('renders route ids containing markup as text, runs none of it, and addresses them in actions', async (t) => {
    const b = ready(t)
    const { page, problems } = await openPage(b, `http://127.0.0.1:${mgmt.address.port}/`)
    try {
      await poll(() => page.locator('#routes tbody th').allTextContents()).toEqual(ids)
      expect(await page.locator('#routes img, #routes script, #inflight-route img').count()).toBe(0)
      expect(await page.locator('#inflight-route option').allTextContents()).toEqual(['All routes', ...ids])
      expect(await page.evaluate('window.__pwned')).toBeUndefined()

      await routeAction(page, 'Suspend', ids[0]!, TOKEN)
      await poll(() => statusCell(page, ids[0]!).textContent()).toBe('suspended')
      await routeAction(page, 'Suspend', ids[2]!)
      await poll(() => statusCell(page, ids[2]!).textContent()).toBe('suspended')
      expect(ctx.routes().map((r) => r.status)).toEqual([
        'suspended',
        'started',
        'suspended',
        'started',
        'started',
      ])
      expect(await page.evaluate('window.__pwned')).toBeUndefined()
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })

  it('shows any status string as it is and offers every action for a status it does not know', async (t) => {
    const b = ready(t)
    const { page, problems } = await openPage(b, `http://127.0.0.1:${mgmt.address.port}/`)
    try {
      await poll(() => statusCell(page, '__proto__').textContent()).toBe('starting')
      expect(await statusCell(page, 'constructor').textContent()).toBe('constructor')
      for (const id of ['__proto__', 'constructor'])
        for (const action of ['Start', 'Suspend', 'Resume', 'Stop'])
          expect(
            await page.getByRole('button', { name: `${action} route ${id}`, exact: true }).isEnabled(),
          ).toBe(true)
      // A known status still narrows the choice: a started route can be suspended or stopped, not resumed.
      expect(
        await page.getByRole('button', { name: `Resume route ${ids[1]!}`, exact: true }).isDisabled(),
      ).toBe(true)
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })
})

describe('console on a forced stop', () => {
  let ctx: IntegrationContext
  let mgmt: ManagementServer

  beforeAll(async () => {
    ctx = createContext({ logger: false })
    // Each exchange waits a minute in a delay step, which ends at once when the exchange is aborted.
    await ctx.addRoutes((r) =>
      r.from('seda:slow?concurrentConsumers=5').routeId('slow').delay(60_000).to('log:slow'),
    )
    mgmt = await createManagementServer(ctx, { port: 0, token: TOKEN, defaultMetrics: false })
    await ctx.start()
  })

  afterAll(async () => {
    await ctx.stop({ timeoutMs: 1000 })
    await mgmt.close()
  })

  it('shows a forced stop: NOTICE and NOW at once, the route forced, and the aborted exchanges', async (t) => {
    const b = ready(t)
    for (let i = 0; i < 3; i++) await ctx.producer().send('seda:slow', i)
    const { page, problems } = await openPage(b, `http://127.0.0.1:${mgmt.address.port}/`)
    try {
      await poll(() => page.locator('#inflight-summary').textContent()).toBe(
        '3 in flight; the 3 oldest first.',
      )
      await page.getByRole('button', { name: 'Force stop…' }).click()
      const dialog = page.getByRole('dialog')
      await dialog.getByLabel('Admin token').fill(TOKEN)
      await dialog.getByRole('button', { name: 'Confirm' }).click()
      const outcome = page.locator('#timeline-outcome')
      await poll(() => outcome.textContent()).toMatch(
        /^Stopped — forced in \d+\.\d{3} s; 3 exchanges aborted \(slow 3\)$/,
      )
      expect(await outcome.getAttribute('class')).toBe('outcome forced')
      expect(await page.locator('#timeline-log li').allTextContents()).toEqual([
        expect.stringMatching(/^\+0\.000 s NOTICE: intake stops, \d+ s until NOW$/),
        expect.stringMatching(/ Route slow stopped \(forced\)$/),
        expect.stringMatching(/ NOW \(forced\): 5000 ms for final cleanup$/),
        expect.stringMatching(/ Stopped: forced in /),
      ])
      expect(await page.getByRole('button', { name: 'Force stop…' }).isDisabled()).toBe(true)
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })
})
