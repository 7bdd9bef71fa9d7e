// The packages as users get them: packed, installed with npm into a project outside the workspace, compiled
// there under strict TypeScript with NodeNext resolution, and run. Every package under packages/* takes part
// automatically; test/packaging/consumer/main.ts is the application that exercises them together.
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { brokerReachable, startScript } from '../support/example-process.js'
import {
  describeRun,
  npmSemver,
  packAll,
  readJson,
  ROOT,
  run,
  workspacePackages,
  type CommandResult,
  type Packed,
} from '../support/packaging.js'

/** The Node versions every package supports (and so must every dependency it installs). */
const SUPPORTED_NODE = '^20.19.0 || ^22.12.0 || >=24.0.0'
/** A path that is a test, a test fixture or test support, wherever it sits. */
const TEST_FILE = /(^|\/)(test|tests|__tests__|fixtures)\/|\.(test|spec|test-d)\.[cm]?[jt]s(\.map)?$/
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn']

const pkgs = workspacePackages()
const root = readJson(join(ROOT, 'package.json'))
let work = ''
let packed: Packed[] = []
let installed: CommandResult | undefined
let compiled: CommandResult | undefined

/** Installs the TypeScript toolchain of the workspace into the consumer project, then compiles it. */
async function compileConsumer(): Promise<CommandResult> {
  const dev = root.devDependencies as Record<string, string>
  const tools = await timed('npm install of typescript and @types/node', () =>
    run(
      'npm',
      ['install', ...NPM_FLAGS, `typescript@${dev.typescript}`, `@types/node@${dev['@types/node']}`],
      {
        cwd: work,
      },
    ),
  )
  if (tools.code !== 0) return tools
  mkdirSync(join(work, 'src'), { recursive: true })
  copyFileSync(join(ROOT, 'test', 'packaging', 'consumer', 'main.ts'), join(work, 'src', 'main.ts'))
  // Every package, imported statically: its declarations must resolve and type-check, its module must load.
  const ids = pkgs.map((p, i) => [`p${i}`, p.manifest.name] as const)
  writeFileSync(
    join(work, 'src', 'packages.ts'),
    [
      ...ids.map(([id, name]) => `import * as ${id} from '${name}'`),
      `const namespaces: Record<string, object> = { ${ids.map(([id, name]) => `'${name}': ${id}`).join(', ')} }`,
      'console.log(JSON.stringify(Object.entries(namespaces).map(([name, ns]) => [name, Object.keys(ns).length])))',
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        skipLibCheck: false,
        rootDir: 'src',
        outDir: 'dist',
      },
      include: ['src'],
    }),
  )
  return timed('tsc', () =>
    run(process.execPath, [join(work, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', work], {
      cwd: work,
    }),
  )
}

/** Runs one phase and prints how long it took (the packaging test's figures in CI output). */
async function timed<T>(phase: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now()
  try {
    return await fn()
  } finally {
    console.log(`packaging: ${phase} took ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dromedary-packaging-'))
  packed = await timed(`build and pack ${pkgs.length} packages`, () => packAll(pkgs, join(work, 'tarballs')))
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({ name: 'dromedary-packaging-consumer', private: true, type: 'module' }),
  )
  installed = await timed('npm install of the tarballs', () =>
    run('npm', ['install', ...NPM_FLAGS, ...packed.map((p) => p.tarball)], { cwd: work }),
  )
}, 300_000)

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true })
}, 120_000)

describe(`the packed packages (${pkgs.map((p) => p.dir).join(', ')}) on Node ${process.version}`, () => {
  it('finds every package under packages/*', () => {
    expect(pkgs.map((p) => p.manifest.name)).toEqual(
      expect.arrayContaining(['@dromedary/core', '@dromedary/amqp', '@dromedary/http']),
    )
  })

  it('declares in every package the supported Node versions and the metadata publishing needs', () => {
    const repo = root.repository as { url: string }
    for (const { dir, manifest: m } of pkgs) {
      const exportsRoot = (m.exports as Record<string, Record<string, string>>)['.']!
      expect(
        {
          engines: m.engines,
          repository: m.repository,
          publishConfig: m.publishConfig,
          license: m.license,
          firstExportCondition: Object.keys(exportsRoot)[0],
          shipsTests: (m.files as string[]).some((f) => TEST_FILE.test(`${f}/`)),
        },
        m.name,
      ).toEqual({
        engines: { node: SUPPORTED_NODE },
        repository: { type: 'git', url: repo.url, directory: `packages/${dir}` },
        publishConfig: { access: 'public', provenance: true },
        license: 'MIT',
        firstExportCondition: 'types',
        shipsTests: false,
      })
      expect((m.keywords as string[]).length, `${m.name} keywords`).toBeGreaterThan(0)
      expect(m.description, `${m.name} description`).toMatch(/\w/)
      expect(m.homepage, `${m.name} homepage`).toMatch(/^https:\/\//)
      expect((m.bugs as { url: string }).url, `${m.name} bugs`).toMatch(/^https:\/\//)
    }
  })

  it('packs no test file, and each tarball carries its README, LICENSE and the files its exports name', () => {
    for (const { pkg, files } of packed) {
      expect(
        files.filter((f) => TEST_FILE.test(f.replace(/^package\//, ''))),
        pkg.manifest.name,
      ).toEqual([])
      const exportsRoot = (pkg.manifest.exports as Record<string, Record<string, string>>)['.']!
      const wanted = ['README.md', 'LICENSE', 'package.json', ...Object.values(exportsRoot)].map(
        (f) => `package/${f.replace(/^\.\//, '')}`,
      )
      expect(files, pkg.manifest.name).toEqual(expect.arrayContaining(wanted))
    }
  })

  it(`installs from the tarballs with npm on Node ${process.version} without an engine warning`, () => {
    expect(installed?.code, describeRun('npm install', installed!)).toBe(0)
    expect(`${installed!.stdout}\n${installed!.stderr}`).not.toMatch(/EBADENGINE|Unsupported engine/)
  })

  it('installs only dependencies whose engines cover every Node version the packages support', () => {
    expect(installed?.code, describeRun('npm install', installed!)).toBe(0)
    const semver = npmSemver()
    const lock = readJson<{ packages: Record<string, { version?: string; engines?: { node?: string } }> }>(
      join(work, 'package-lock.json'),
    )
    const entries = Object.entries(lock.packages).filter(([path]) => path !== '')
    const narrower = entries
      .filter(([, p]) => p.engines?.node !== undefined && !semver.subset(SUPPORTED_NODE, p.engines.node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version}: node ${p.engines?.node}`)
    expect(entries.length).toBeGreaterThan(pkgs.length)
    expect(narrower).toEqual([])
  })

  it('compiles an application using every package under strict TypeScript with NodeNext resolution', async () => {
    expect(installed?.code, describeRun('npm install', installed!)).toBe(0)
    compiled = await compileConsumer()
    expect(compiled.code, describeRun('tsc', compiled)).toBe(0)
    const loaded = await run(process.execPath, [join(work, 'dist', 'packages.js')], { cwd: work })
    expect(loaded.code, describeRun('node dist/packages.js', loaded)).toBe(0)
    const counts = JSON.parse(loaded.stdout) as [string, number][]
    expect(counts.map(([name]) => name)).toEqual(pkgs.map((p) => p.manifest.name))
    for (const [name, n] of counts) expect(n, `exports of ${name}`).toBeGreaterThan(0)
  }, 240_000)

  it('loads every package with require() from CommonJS', async () => {
    expect(installed?.code, describeRun('npm install', installed!)).toBe(0)
    for (const { manifest } of pkgs) {
      const script = `const m = require(${JSON.stringify(manifest.name)}); console.log(Object.keys(m).length)`
      const r = await run(process.execPath, ['-e', script], { cwd: work })
      expect(r.code, describeRun(`require('${manifest.name}')`, r)).toBe(0)
      expect(Number(r.stdout.trim()), manifest.name).toBeGreaterThan(0)
    }
  }, 60_000)

  it('runs the application: HTTP to seda to RabbitMQ, an answered request, scraped metrics, a graceful stop', async () => {
    expect(compiled?.code, 'the application did not compile (see the test above)').toBe(0)
    if (!(await brokerReachable(AMQP_URL)))
      throw new Error(
        `RabbitMQ is not reachable at ${AMQP_URL.replace(/\/\/[^@]*@/, '//')}: the packaged application publishes and consumes through it (start it with \`rabbitmq-server -detached\`)`,
      )
    const queue = `dromedary-packaging-${randomBytes(4).toString('hex')}`
    const r = await run(process.execPath, [join(work, 'dist', 'main.js')], {
      cwd: work,
      env: { ...process.env, AMQP_URL, QUEUE: queue },
      timeoutMs: 60_000,
    })
    expect(r.code, describeRun('node dist/main.js', r)).toBe(0)
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
    expect(out, describeRun('node dist/main.js', r)).toMatchObject({
      posted: { status: 202, body: { accepted: 'o-1' } },
      shipped: [{ id: 'o-1', quantity: 2 }],
      ready: 200,
      slow: { status: 200, body: 'finished during the stop' },
      report: { graceful: true, forced: false },
      status: 'stopped',
      afterStop: 'DROMEDARY_ERR_SHUTTING_DOWN',
    })
    expect((out.report as { routes: string[] }).routes.sort()).toEqual(['api', 'publish', 'ship', 'slow'])
    const metrics = out.metrics as string[]
    for (const route of ['api', 'publish', 'ship'])
      expect(metrics, `exchanges of ${route}`).toContainEqual(
        expect.stringMatching(new RegExp(`route="${route}".*outcome="completed".*\\} 1$`)),
      )
  }, 90_000)
})

describe('docs/getting-started.md, followed step by step in a new project outside the repository', () => {
  let app = ''
  afterAll(() => {
    if (app !== '') rmSync(app, { recursive: true, force: true })
  }, 120_000)

  it('installs the core tarball, compiles the first route, runs it and stops it gracefully with Ctrl-C', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8')
    const tsconfig = /```json\n([\s\S]*?)```/.exec(doc)?.[1]
    const main = /```ts\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(tsconfig, 'the tsconfig.json block').toBeDefined()
    expect(main, 'the src/main.ts block').toBeDefined()
    const core = packed.find((p) => p.pkg.manifest.name === '@dromedary/core')
    expect(core, 'the packed @dromedary/core').toBeDefined()

    // Step 1, as written, except that the toolchain is pinned to the workspace's versions.
    app = mkdtempSync(join(tmpdir(), 'hello-dromedary-'))
    const dev = root.devDependencies as Record<string, string>
    for (const [cmd, ...args] of [
      ['npm', 'init', '-y'],
      ['npm', 'pkg', 'set', 'type=module'],
      ['npm', 'install', ...NPM_FLAGS, core!.tarball],
      [
        'npm',
        'install',
        ...NPM_FLAGS,
        '--save-dev',
        `typescript@${dev.typescript}`,
        `@types/node@${dev['@types/node']}`,
      ],
    ] as const) {
      const r = await run(cmd, args, { cwd: app })
      expect(r.code, describeRun(`${cmd} ${args.join(' ')}`, r)).toBe(0)
    }
    // Steps 2 and 3: the two files.
    writeFileSync(join(app, 'tsconfig.json'), tsconfig!)
    mkdirSync(join(app, 'src'))
    writeFileSync(join(app, 'src', 'main.ts'), main!)
    // Step 4: `npx tsc && node dist/main.js`.
    const tsc = await run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc')], {
      cwd: app,
    })
    expect(tsc.code, describeRun('npx tsc', tsc)).toBe(0)
    const hello = startScript(join(app, 'dist', 'main.js'), [], {}, 'hello-dromedary')
    try {
      await hello.waitForLine((l) => l.msg === 'Processed order {"id":"o-1"}', 15_000)
      // Step 5: Ctrl-C.
      hello.child.kill('SIGINT')
      const exit = await hello.exited
      expect(exit, hello.output()).toEqual({ code: 0, signal: null })
      const msgs = hello.lines.map((l) => l.msg)
      expect(msgs, hello.output()).toEqual(
        expect.arrayContaining([
          'Received SIGINT: starting graceful shutdown (send it again to force)',
          'Shutdown notice: intake stops, 10 seconds until shutdown now',
          'Starting to graceful shutdown 2 routes (timeout 10 seconds)',
          'Stopped intake (timer://orders)',
          'Stopped worker (seda://orders)',
        ]),
      )
      expect(msgs.some((m) => /^Graceful shutdown of 2 routes completed in \d+\.\d{3} s$/.test(m))).toBe(true)
    } finally {
      hello.kill()
    }
  }, 240_000)
})
