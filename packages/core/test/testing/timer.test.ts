import { describe, expect, it } from 'vitest'
import { describeConsumerConformance } from '@dromedary/core/testing'
import { timerSubject } from './subjects.js'

describeConsumerConformance({ describe, it, expect }, timerSubject)
