import { afterEach, describe, expect, it, vi } from 'vitest'
import { missingTool } from '../support/system-tool.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('missingTool (suites that need a Debian package)', () => {
  it('fails under CI=true, saying how to install the package', () => {
    vi.stubEnv('CI', 'true')
    expect(() => missingTool('/nonexistent/chromium', 'chromium', 'the console tests')).toThrow(
      /not installed; install it with: apt-get update && apt-get install -y chromium \(CI=true requires it for the console tests\)/,
    )
  })

  it('gives the reason to skip outside CI, and nothing when the program exists', () => {
    vi.stubEnv('CI', '')
    expect(missingTool('/nonexistent/promtool', 'prometheus', 'rules')).toMatch(
      /apt-get install -y prometheus$/,
    )
    expect(missingTool(process.execPath, 'nodejs', 'anything')).toBeUndefined()
  })
})
