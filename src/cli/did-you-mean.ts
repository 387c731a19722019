/**
 * "Did you mean": the known names closest to what a user typed (a flag, a command, a scenario id), by edit
 * distance with transpositions (`--varaint` is one edit from `--variant`), so a typo gets a useful suggestion
 * and an unrelated word gets none.
 */

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbours. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidates close enough to `typed` to be what was meant, closest first: within a third of the longer
 * name's length (1 to 3 edits; names under 3 letters only differ in case), or a candidate that starts with
 * what was typed (`--var` for `--variant`). Ties keep the candidates' order.
 */
export function closest(typed: string, candidates: readonly string[], max = 3): string[] {
  const t = typed.toLowerCase();
  if (t === '') return [];
  const scored: { name: string; score: number; order: number }[] = [];
  candidates.forEach((name, order) => {
    const n = name.toLowerCase();
    const distance = editDistance(t, n);
    // Measured without leading dashes: `-v` is one letter, so only `-V` is close to it, not `-h`.
    const bare = Math.max(t.replace(/^-+/, '').length, n.replace(/^-+/, '').length);
    const limit = bare < 3 ? 0 : Math.min(3, Math.max(1, Math.floor(bare / 3)));
    if (distance <= limit) scored.push({ name, score: distance, order });
    // A prefix of at least 3 characters: the name was cut short. It ranks after every close typo.
    else if (t.length >= 3 && n.startsWith(t)) scored.push({ name, score: limit + 1 + (n.length - t.length) / 100, order });
  });
  return scored
    .sort((x, y) => x.score - y.score || x.order - y.order)
    .slice(0, max)
    .map((s) => s.name);
}

/** ` (did you mean --variant?)`, `` (did you mean a or b?)`` or '' when nothing is close. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const near = closest(typed, candidates);
  if (near.length === 0) return '';
  const list = near.length === 1 ? near[0]! : `${near.slice(0, -1).join(', ')} or ${near[near.length - 1]!}`;
  return ` (did you mean ${list}?)`;
}
