/**
 * The metric factory components get, so transport packages never import prom-client themselves.
 * Names are given without the prefix; the context adds it (`dromedary_` by default).
 */
export interface MetricsFactory {
  counter<TLabel extends string>(
    name: string,
    help: string,
    labelNames: readonly TLabel[],
  ): CounterMetric<TLabel>
  gauge<TLabel extends string>(name: string, help: string, labelNames: readonly TLabel[]): GaugeMetric<TLabel>
}

/** A counter; `labels(...)` returns a bound child to keep on hot paths. */
export interface CounterMetric<TLabel extends string> {
  inc(labels: Readonly<Record<TLabel, string>>, value?: number): void
  labels(labels: Readonly<Record<TLabel, string>>): { inc(value?: number): void }
}

/** A gauge. */
export interface GaugeMetric<TLabel extends string> {
  set(labels: Readonly<Record<TLabel, string>>, value: number): void
  inc(labels: Readonly<Record<TLabel, string>>, value?: number): void
  dec(labels: Readonly<Record<TLabel, string>>, value?: number): void
}
