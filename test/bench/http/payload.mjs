/** The JSON both HTTP servers answer with. */
export const PAYLOAD = { id: 42, status: 'shipped', items: [{ sku: 'A-1', qty: 2 }], total: 19.9 }
