/** Thrown by a management action to answer a problem (`application/problem+json`). */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail)
  }

  override get name(): string {
    return 'ProblemError'
  }
}
