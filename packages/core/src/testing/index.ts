// @dromedary/core/testing: the component conformance kit. Curated exports; the runtime never imports this entry.

export { describeConsumerConformance, consumerConformanceChecks } from './consumer-conformance.js'
export { describeProducerConformance, producerConformanceChecks } from './producer-conformance.js'
export { CONFORMANCE_ROUTE_ID } from './harness.js'
export type { ConformanceRunner, ExpectLike } from './runner.js'
export type {
  ConformanceTimings,
  ConsumerCapabilities,
  ConsumerFixture,
  ConsumerSubject,
  ProducerCapabilities,
  ProducerFixture,
  ProducerSubject,
  SilentPeer,
} from './subject.js'
