/** Route colours: distinct hues dark enough for 3:1 against the light chart background. */
const PALETTE = ['#0b57d0', '#b3261e', '#0a6b2e', '#8a4fbf', '#a15c00', '#00707a', '#b0306e', '#4d5b00']

/** The colour of the route at `index` of a stable order. */
export function colourOf(index: number): string {
  return PALETTE[index % PALETTE.length]!
}
