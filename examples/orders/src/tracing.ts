// Opt-in tracing: only when OTEL_EXPORTER_OTLP_ENDPOINT is set (e.g. http://127.0.0.1:4318) does the app start
// the OpenTelemetry Node SDK with an OTLP/HTTP exporter. It must start before the context does: routes look
// for a registered SDK when they start. Without the variable nothing is loaded and tracing costs nothing.

/** Starts the SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set; resolves with its shutdown (flushes spans). */
export async function startTracing(
  env: NodeJS.ProcessEnv = process.env,
): Promise<(() => Promise<void>) | undefined> {
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined || env.OTEL_EXPORTER_OTLP_ENDPOINT === '')
    return undefined
  const { NodeSDK } = await import('@opentelemetry/sdk-node')
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'orders',
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT and sends to its /v1/traces.
    traceExporter: new OTLPTraceExporter(),
  })
  sdk.start()
  return () => sdk.shutdown()
}
