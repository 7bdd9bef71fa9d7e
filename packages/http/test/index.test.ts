import { describe, expect, it } from 'vitest'
import * as http from '@dromedary/http'

describe('@dromedary/http public API', () => {
  it('exports exactly the curated runtime names', () => {
    expect(Object.keys(http).sort()).toEqual(['HttpErrorCodes', 'createManagementServer', 'httpComponent'])
  })

  it('has every error code under the DROMEDARY_ERR_HTTP_ prefix, none reused', () => {
    const codes = Object.values(http.HttpErrorCodes)
    expect(codes.every((c) => c.startsWith('DROMEDARY_ERR_HTTP_'))).toBe(true)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('validates component options with DROMEDARY_ERR_HTTP_INVALID_OPTIONS', () => {
    expect(() => http.httpComponent({ port: 70_000 })).toThrow(
      expect.objectContaining({ code: http.HttpErrorCodes.INVALID_OPTIONS }),
    )
    expect(() => http.httpComponent({ bodyLimit: 0 })).toThrow(
      expect.objectContaining({ code: http.HttpErrorCodes.INVALID_OPTIONS }),
    )
  })
})
