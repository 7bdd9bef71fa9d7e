import { describe, expectTypeOf, it } from 'vitest'
import type { Exchange, RouteBuilder, RouteDsl } from '@dromedary/core'

interface Order {
  id: string
  total: number
}
interface Shipment {
  orderId: string
  express: boolean
}
interface Ack {
  ok: boolean
}

declare const r: RouteDsl

describe('RouteBuilder body types', () => {
  it('from<T> fixes the body type', () => {
    expectTypeOf(r.from<Order>('direct:orders')).toEqualTypeOf<RouteBuilder<Order>>()
  })

  it('defaults the body to unknown', () => {
    expectTypeOf(r.from('direct:x')).toEqualTypeOf<RouteBuilder<unknown>>()
  })

  it('process sees the body type and keeps it', () => {
    const b = r.from<Order>('direct:orders').process((ex) => {
      expectTypeOf(ex).toEqualTypeOf<Exchange<Order>>()
      expectTypeOf(ex.message.body.total).toEqualTypeOf<number>()
    })
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<Order>>()
  })

  it('transform changes the body type to what the function returns', () => {
    const b = r
      .from<Order>('direct:orders')
      .transform((ex): Shipment => ({ orderId: ex.message.body.id, express: ex.message.body.total > 100 }))
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<Shipment>>()
  })

  it('transform unwraps an async result', () => {
    const b = r.from<Order>('direct:orders').transform(async (ex) => ex.message.body.total)
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<number>>()
  })

  it('setBody with a value changes the body type to the value type', () => {
    const b = r.from<Order>('direct:orders').setBody<Ack>({ ok: true })
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<Ack>>()
  })

  it('setBody with a function sees the current body and changes it', () => {
    const b = r.from<Order>('direct:orders').setBody((ex) => ex.message.body.id)
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<string>>()
  })

  it('marshal makes the body a string and unmarshal<T> makes it T', () => {
    const marshalled = r.from<Order>('direct:orders').marshal('json')
    expectTypeOf(marshalled).toEqualTypeOf<RouteBuilder<string>>()
    expectTypeOf(marshalled.unmarshal<Order>('json')).toEqualTypeOf<RouteBuilder<Order>>()
  })

  it('carries the body type through a whole chain', () => {
    const chain = r
      .from<string>('seda:raw')
      .unmarshal<Order>('json')
      .process((ex) => {
        expectTypeOf(ex.message.body).toEqualTypeOf<Order>()
      })
      .filter((ex) => ex.message.body.total > 0)
      .transform((ex): Shipment => ({ orderId: ex.message.body.id, express: false }))
      .setHeader('x', 1)
      .process((ex) => {
        expectTypeOf(ex.message.body).toEqualTypeOf<Shipment>()
      })
      .setBody((ex) => ({ ok: ex.message.body.express }))
      .to('mock:out')
    expectTypeOf(chain).toEqualTypeOf<RouteBuilder<{ ok: boolean }>>()
  })

  it('steps that do not touch the body keep its type', () => {
    const b = r
      .from<Order>('direct:orders')
      .setHeader('h', 1)
      .removeHeader('h')
      .filter((ex) => ex.message.body.total > 0)
      .to('mock:a')
      .toD((ex) => `mock:${ex.message.body.id}`)
      .wireTap('mock:tap')
      .multicast(['mock:a', 'mock:b'])
      .log((ex) => ex.message.body.id)
      .throttle(10, 1000)
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<Order>>()
  })

  it('choice branches see the current body type', () => {
    r.from<Order>('direct:orders').choice((c) =>
      c
        .when(
          (ex) => ex.message.body.total > 100,
          (b) => expectTypeOf(b).toEqualTypeOf<RouteBuilder<Order>>(),
        )
        .otherwise((b) => expectTypeOf(b).toEqualTypeOf<RouteBuilder<Order>>()),
    )
  })

  it('split branches see the item type and the route keeps its body type', () => {
    const b = r.from<Order[]>('direct:batch').split(
      (ex) => ex.message.body,
      (item) => expectTypeOf(item).toEqualTypeOf<RouteBuilder<Order>>(),
    )
    expectTypeOf(b).toEqualTypeOf<RouteBuilder<Order[]>>()
  })

  it('rejects a process function that expects another body type', () => {
    // @ts-expect-error the body is an Order, not a Shipment
    r.from<Order>('direct:orders').process((ex: Exchange<Shipment>) => void ex)
  })

  it('rejects reading a property the body type does not have', () => {
    r.from<Order>('direct:orders').process((ex) => {
      // @ts-expect-error Order has no `express`
      void ex.message.body.express
    })
  })

  it('types the exchange of a setHeader function like every other step', () => {
    r.from<Order>('direct:orders').setHeader('id', (ex) => {
      expectTypeOf(ex).toEqualTypeOf<Exchange<Order>>()
      return ex.message.body.id
    })
    r.from<Order>('direct:orders').setHeader('fixed', 42)
  })
})
