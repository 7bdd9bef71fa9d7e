/** The only file of `@dromedary/http` that imports prom-client: Node's default metrics, kept out of the global registry. */
import { collectDefaultMetrics, Registry, type RegistryContentType } from 'prom-client'

/** The part of the context's prom-client `Registry` the management server reads. */
export interface MetricsSource {
  metrics(): Promise<string>
  readonly contentType: string
  getSingleMetric(name: string): unknown
}

/**
 * Renders `GET /metrics`: the context's registry followed by Node's default process metrics, collected into a
 * registry of our own (never prom-client's global one). The defaults are skipped when the context registry
 * already has them (a user who passed a registry with `collectDefaultMetrics` applied).
 */
export class MetricsRenderer {
  readonly #context: MetricsSource | undefined
  readonly #node: Registry<RegistryContentType> | undefined

  constructor(context: MetricsSource | undefined, defaults: boolean) {
    this.#context = context
    if (!defaults || context?.getSingleMetric('process_cpu_user_seconds_total') !== undefined) return
    const registry = new Registry<RegistryContentType>()
    if (context !== undefined) registry.setContentType(context.contentType as RegistryContentType)
    this.#node = registry
    collectDefaultMetrics({ register: this.#node })
  }

  /** The content type of the exposition. */
  get contentType(): string {
    return this.#context?.contentType ?? this.#node?.contentType ?? Registry.PROMETHEUS_CONTENT_TYPE
  }

  /** The exposition text of both registries. */
  async render(): Promise<string> {
    const [a, b] = await Promise.all([this.#context?.metrics() ?? '', this.#node?.metrics() ?? ''])
    if (a === '' || b === '') return a + b
    // OpenMetrics ends each exposition with `# EOF`; only the last may keep it.
    const head = a.replace(/# EOF\n?$/, '')
    return head.endsWith('\n') ? head + b : `${head}\n${b}`
  }

  /** Drops the private registry's metrics. */
  close(): void {
    this.#node?.clear()
  }
}
