// Latency percentiles as the benchmarks report them: nearest rank over an ascending list (NaN when empty).

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
