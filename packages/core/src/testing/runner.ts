import { AssertionError, deepStrictEqual } from 'node:assert/strict'

/**
 * The test runner functions the kit registers its checks with: vitest's or jest's `describe`/`it`/`expect`, or
 * `node:test`'s `describe`/`it` (without `expect`, the kit asserts with `node:assert`). Give each test enough
 * time for the kit's own bounds (`ConformanceTimings`; about 15 s covers the defaults), e.g. through the
 * runner's configuration or a wrapper: `it: (name, fn) => it(name, fn, 30_000)`.
 */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): unknown
  it(name: string, fn: () => Promise<void>): unknown
  /** Used for the comparisons when given, so failures show the runner's own diff. */
  readonly expect?: ExpectLike
}

/** The part of vitest's and jest's `expect` the kit uses. */
export type ExpectLike = (actual: unknown, message?: string) => { toEqual(expected: unknown): void }

/** Assertions that read as the contract they check. @internal */
export class Asserts {
  readonly #expect: ExpectLike | undefined

  constructor(expect: ExpectLike | undefined) {
    this.#expect = expect
  }

  /** `actual` deep-equals `expected`; `what` says which rule of the contract that is. */
  equal(actual: unknown, expected: unknown, what: string): void {
    if (this.#expect !== undefined) this.#expect(actual, what).toEqual(expected)
    else deepStrictEqual(actual, expected, what)
  }

  /** Fails with `what` unless `condition` holds. */
  that(condition: boolean, what: string): void {
    if (!condition) throw new AssertionError({ message: what })
  }
}
