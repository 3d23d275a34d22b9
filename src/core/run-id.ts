/** A run id that sorts by time and says which command made it. */
export function newRunId(command: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  return `${command}-${stamp}-${Math.random().toString(36).slice(2, 6)}`
}
