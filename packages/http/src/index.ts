// Curated public API of @dromedary/http. Nothing is re-exported wholesale.

/** The `http` component: inbound routes on fastify, outbound requests with fetch (SPEC §6). */
export { httpComponent } from './http-component.js'
/** Options and instance type of `httpComponent`. */
export type { HttpComponent, HttpComponentOptions } from './http-component.js'
/** The address an HTTP server listens on. */
export type { HttpAddress } from './http-server.js'
/** The HTTP methods an inbound route can be bound to (`ANY` accepts all). */
export type { HttpMethod } from './http-router.js'
/** The management server: metrics, health, listings and shutdown control (SPEC §6). */
export { createManagementServer } from './management/management-server.js'
/** Options and instance type of `createManagementServer`. */
export type { ManagementServer, ManagementServerOptions } from './management/management-server.js'
/** The error codes of this package, and the error of a non-2xx outbound answer. */
export { HttpErrorCodes } from './errors.js'
/** A code of `@dromedary/http` and the error of a non-2xx outbound answer. */
export type { HttpErrorCode, HttpOperationFailedError } from './errors.js'
