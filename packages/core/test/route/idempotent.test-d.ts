import { describe, expectTypeOf, it } from 'vitest'
import {
  memoryIdempotentRepository,
  type Exchange,
  type RouteBuilder,
  type RouteDsl,
  type TransactionPolicy,
} from '@dromedary/core'

interface Payment {
  id: string
  cents: number
}

declare const r: RouteDsl
declare const policy: TransactionPolicy
const repository = memoryIdempotentRepository()

describe('exactly-once steps', () => {
  it('idempotentConsumer gives keyFn the exchange with the body type and keeps it', () => {
    const b = r.from<Payment>('direct:p').idempotentConsumer(
      (ex) => {
        expectTypeOf(ex).toEqualTypeOf<Exchange<Payment>>()
        return ex.message.body.id
      },
      { repository },
    )
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<Payment>>()
  })

  it('idempotentConsumer needs a string key and a repository', () => {
    // @ts-expect-error the key must be a string
    r.from<Payment>('direct:p').idempotentConsumer((ex) => ex.message.body.cents, { repository })
    // @ts-expect-error options need a repository
    r.from<Payment>('direct:p').idempotentConsumer((ex) => ex.message.body.id, {})
  })

  it('transacted hands the block a builder of the body type and keeps it', () => {
    const b = r.from<Payment>('direct:p').transacted(policy, (t) => {
      expectTypeOf(t).toEqualTypeOf<RouteBuilder<Payment>>()
      return t.process((ex) => {
        expectTypeOf(ex.message.body.cents).toEqualTypeOf<number>()
      })
    })
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<Payment>>()
  })
})
