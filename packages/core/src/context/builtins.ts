import type { EventBus } from '../components/event/event-component.js'
import { controlbusComponent, type ControlTarget } from '../components/controlbus/controlbus-component.js'
import { directComponent } from '../components/direct/direct-component.js'
import type { CoreInternals } from '../components/internals.js'
import { logComponent } from '../components/log/log-component.js'
import type { MockRegistry } from '../components/mock/mock-component.js'
import { sedaComponent } from '../components/seda/seda-component.js'
import { timerComponent } from '../components/timer/timer-component.js'
import type { Component } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'

/** What the built-in components need from their context. @internal */
export interface BuiltinDeps {
  readonly internals: CoreInternals
  readonly logger: () => Logger
  readonly mocks: MockRegistry
  readonly eventBus: EventBus
  readonly control: () => ControlTarget
}

/** Registers the always-present components of SPEC §1: direct, seda, timer, log, mock, controlbus, event. @internal */
export function registerBuiltins(components: Map<string, Component>, deps: BuiltinDeps): void {
  components.set('direct', directComponent(deps.internals))
  components.set('seda', sedaComponent(deps.internals))
  components.set('timer', timerComponent())
  components.set('log', logComponent(deps.logger))
  components.set('mock', deps.mocks.component())
  components.set('controlbus', controlbusComponent(deps.control))
  components.set('event', deps.eventBus.component())
}
