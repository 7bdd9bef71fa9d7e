import { errors } from '../errors.js'
import type { EndpointUri } from '../spi/component.js'
import { parseOptions, type OptionSchema } from './options.js'

const SCHEME = /^([a-z][a-z0-9+.-]*):(.*)$/i

/** Parses `scheme:path?a=1&b=2`; throws DROMEDARY_ERR_INVALID_URI naming the route and URI. */
export function parseUri(routeId: string, uri: string): EndpointUri {
  if (typeof uri !== 'string' || uri.length === 0) throw errors.invalidUri(routeId, String(uri), 'empty URI')
  const m = SCHEME.exec(uri)
  if (m === null) throw errors.invalidUri(routeId, uri, 'expected "scheme:path"')
  const scheme = m[1]!.toLowerCase()
  const rest = m[2]!
  const q = rest.indexOf('?')
  const path = (q === -1 ? rest : rest.slice(0, q)).replace(/^\/\//, '')
  const params = new Map<string, string>()
  if (q !== -1) {
    for (const part of rest.slice(q + 1).split('&')) {
      if (part === '') continue
      const eq = part.indexOf('=')
      let key: string
      let value: string
      try {
        key = decodeURIComponent(eq === -1 ? part : part.slice(0, eq))
        value = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1))
      } catch {
        throw errors.invalidUri(routeId, uri, `bad percent-encoding in "${part}"`)
      }
      if (key === '') throw errors.invalidUri(routeId, uri, `empty option name in "${part}"`)
      if (params.has(key)) throw errors.invalidUri(routeId, uri, `option "${key}" given twice`)
      params.set(key, value)
    }
  }
  return {
    uri,
    scheme,
    path,
    params,
    routeId,
    parseOptions: <S extends OptionSchema>(schema: S) => parseOptions(routeId, uri, params, schema),
  }
}
