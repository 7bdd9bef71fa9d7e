import { describe, expect, it } from 'vitest'
import { describeConsumerConformance, describeProducerConformance } from '@dromedary/core/testing'
import { directSubject, recordingDestination, uniqueName } from './subjects.js'

describeConsumerConformance({ describe, it, expect }, directSubject)

describeProducerConformance(
  { describe, it, expect },
  {
    name: 'direct',
    capabilities: { stall: true },
    setup: () => recordingDestination(`direct:${uniqueName('destination')}`),
  },
)
