// Packing the workspace's packages and installing them into a project outside the workspace, as a user would:
// every non-private package under packages/* is found, packed with pnpm (which resolves `workspace:` ranges)
// and installed with npm. Commands run on the Node that runs the test, so npm checks engines against it.
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'
import { ROOT, withBuildLock } from './build-lock.js'

export { ROOT }

/** The fields of a package.json the packaging checks read. */
export interface Manifest {
  readonly name: string
  readonly version: string
  readonly private?: boolean
  readonly [field: string]: unknown
}

/** A package of the workspace: `packages/<dir>`. */
export interface WorkspacePackage {
  readonly dir: string
  readonly path: string
  readonly manifest: Manifest
}

/** A packed package: its tarball and the paths inside it (`package/…`). */
export interface Packed {
  readonly pkg: WorkspacePackage
  readonly tarball: string
  readonly files: readonly string[]
}

/** How a command ended; never thrown, so a test can show the output. */
export interface CommandResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Reads a JSON file. */
export function readJson<T = Manifest>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}

/** Every publishable package under packages/*, in directory order. */
export function workspacePackages(): WorkspacePackage[] {
  const base = join(ROOT, 'packages')
  return readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(base, e.name, 'package.json')))
    .map((e) => ({
      dir: e.name,
      path: join(base, e.name),
      manifest: readJson(join(base, e.name, 'package.json')),
    }))
    .filter((p) => p.manifest.private !== true)
    .sort((a, b) => a.dir.localeCompare(b.dir))
}

/**
 * The environment for the tools the test runs: this Node first on the PATH, and without the variables pnpm sets
 * for its own scripts (npm would warn about them as unknown configuration).
 */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_(package|lifecycle|command)|npm_config_(user_agent|verify_deps_before_run)|pnpm_)/i.test(k))
      continue
    env[k] = v
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter)
  return { ...env, ...extra }
}

/** Runs a command to completion and reports how it ended. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? toolEnv(),
        timeout: options.timeoutMs ?? 240_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
        resolve({ code, stdout, stderr: err !== null && code === 1 && stderr === '' ? err.message : stderr })
      },
    )
  })
}

/** The command's output, for assertion messages. */
export function describeRun(what: string, r: CommandResult): string {
  return `${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
}

/** The file name `pnpm pack` and `npm pack` give a package's tarball. */
function tarballName(m: Manifest): string {
  return `${m.name.replace(/^@/, '').replace('/', '-')}-${m.version}.tgz`
}

/** Packs every package into `dest` (each one's `prepack` builds it), holding the build lock. */
export function packAll(pkgs: readonly WorkspacePackage[], dest: string): Packed[] {
  return withBuildLock(
    () =>
      pkgs.map((pkg) => {
        execFileSync('pnpm', ['pack', '--pack-destination', dest], {
          cwd: pkg.path,
          env: toolEnv(),
          stdio: 'pipe',
        })
        const tarball = join(dest, tarballName(pkg.manifest))
        if (!existsSync(tarball)) throw new Error(`pnpm pack of ${pkg.manifest.name} left no ${tarball}`)
        const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean)
        return { pkg, tarball, files }
      }),
    300_000,
  )
}

/** The part of npm's bundled `semver` the checks use. */
export interface Semver {
  subset(sub: string, sup: string): boolean
  satisfies(version: string, range: string): boolean
}

/** npm's own `semver` (the one npm checks engines with), so the test adds no dependency of its own. */
export function npmSemver(): Semver {
  const onPath = (toolEnv().PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'npm'))
    .find((f) => existsSync(f))
  if (onPath === undefined) throw new Error('npm is not on the PATH')
  // The npm command is a link into npm's package (…/npm/bin/npm-cli.js); its package.json is above it.
  for (let dir = dirname(realpathSync(onPath)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && readJson(manifest).name === 'npm')
      return createRequire(manifest)('semver') as Semver
  }
  throw new Error(`cannot find npm's package above ${realpathSync(onPath)}, so cannot load its semver`)
}
