/** Throws a RangeError unless every value is a finite number (NaN would silently corrupt ranks and quantiles). */
export function assertFinite(values: readonly number[], name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new RangeError(`${name}[${i}] is ${String(values[i])}: statistics need finite numbers`);
    }
  }
}
