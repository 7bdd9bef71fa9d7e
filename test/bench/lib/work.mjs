// The work both sides of the core benchmarks do: three small steps on an order body. Ours runs them as
// route steps, the baseline calls them directly; the functions are the same objects.

/** A fresh body per exchange, the same shape on both sides. */
export function newOrder(i) {
  return { qty: (i & 7) + 1, unitPrice: 3 }
}

export function price(order) {
  order.total = order.qty * order.unitPrice
}

export function tax(order) {
  order.tax = Math.round(order.total * 0.2)
}

export function check(order) {
  order.valid = order.total + order.tax > 0
}

// The async variants return a promise each, as an async step that did (very little) I/O would.
export async function priceAsync(order) {
  price(order)
}

export async function taxAsync(order) {
  tax(order)
}

export async function checkAsync(order) {
  check(order)
}
