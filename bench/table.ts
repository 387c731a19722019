/** The bench's table: one row per measured figure, its target where the lab has one (a dash otherwise). */
export interface Row {
  metric: string;
  value: number | string;
  unit: string;
  target: string;
  ok: boolean | null;
  note?: string;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

export function formatTable(rows: Row[]): string[] {
  const head = ['metric', 'median', 'target', 'ok', 'note'];
  const cells = rows.map((r) => [r.metric, `${typeof r.value === 'number' ? +r.value.toFixed(2) : r.value} ${r.unit}`.trim(), r.target, r.ok === null ? '—' : r.ok ? 'yes' : 'NO', r.note ?? '']);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...cells.map(line)];
}
