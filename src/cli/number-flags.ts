import { UsageError } from './errors.js'

/** A flag given as text that must be a number >= 0 (oclif's integer flags cannot hold 0.6 or 1e-5). */
export function nonNegativeFlag(name: string, value: string): number {
  const parsed = Number(value)
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new UsageError(`--${name} ${value}: expected a number >= 0`)
  }
  return parsed
}

/** A flag that must be a number from 0 to 1. */
export function fractionFlag(name: string, value: string): number {
  const parsed = nonNegativeFlag(name, value)
  if (parsed > 1) throw new UsageError(`--${name} ${value}: expected a number from 0 to 1`)
  return parsed
}
