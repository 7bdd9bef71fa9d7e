// Prints the top frames of a V8 .cpuprofile (from `node --cpu-prof`) by self time, and the share of each
// file, so a missed target can be explained without opening DevTools.
//   node test/bench/profile-summary.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs'

const [file, topArg = '25'] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: node test/bench/profile-summary.mjs <file.cpuprofile> [top]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
const total = profile.timeDeltas.reduce((a, b) => a + b, 0)
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const frames = new Map()
const files = new Map()
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame
  const shortUrl = url
    .replace(/^file:\/\/.*?\/(packages|test|node_modules)\//, '$1/')
    .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
  const key = `${functionName || '(anonymous)'}  ${shortUrl}${url ? `:${lineNumber + 1}` : ''}`
  frames.set(key, (frames.get(key) ?? 0) + us)
  const f = shortUrl || '(native/gc/idle)'
  files.set(f, (files.get(f) ?? 0) + us)
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
console.log(`total ${(total / 1000).toFixed(0)} ms\n\ntop frames by self time:`)
for (const [k, us] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg)))
  console.log(`${pct(us)}  ${k}`)
console.log('\nby file:')
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${k}`)
