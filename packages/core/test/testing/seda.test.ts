import { describe, expect, it } from 'vitest'
import { describeConsumerConformance, describeProducerConformance } from '@dromedary/core/testing'
import { recordingDestination, sedaSubject, uniqueName } from './subjects.js'

describeConsumerConformance({ describe, it, expect }, sedaSubject)

describeProducerConformance(
  { describe, it, expect },
  {
    name: 'seda',
    capabilities: { stall: true },
    // waitForTaskToComplete=always: the send is in flight until the destination's exchange ends.
    setup: () => recordingDestination(`seda:${uniqueName('destination')}?waitForTaskToComplete=always`),
  },
)
