import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Attempt } from './attempts.js';
import { loadExercises } from './exercise.js';
import { renderWorkshopReport } from './report-page.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const [first] = loadExercises(root);

function attempt(values: number[], reference = false): Attempt {
  return {
    exercise: first!.number,
    id: first!.id,
    title: first!.title,
    at: '2026-12-06T12:00:00.000Z',
    seed: 1,
    reference,
    module: 'm.ts',
    source: '',
    // Targets in reverse order: the page matches them by assertion, not by position.
    grade: {
      reached: null,
      next: null,
      moduleFailed: null,
      targets: [...first!.targets].reverse().map((t) => ({ assertion: t.assertion, label: t.label, stat: 'max' as const, value: values[0]!, tiers: {}, hint: '', points: values.map((v, i) => [i, v] as [number, number]) })),
    },
  };
}

describe('the workshop report page', () => {
  it('one chart per target, one line per attempt, the tiers as dashed lines; no script', () => {
    const html = renderWorkshopReport([first!], [attempt([0.9, 1.2]), attempt([0.1, 0.2], true)]);
    const section = html.slice(html.indexOf('<section>'), html.indexOf('</section>'));
    const charts = section.match(/<svg[\s\S]*?<\/svg>/g)!;
    expect(charts).toHaveLength(first!.targets.length);
    for (const c of charts) expect(c.match(/<path /g)).toHaveLength(2);
    expect(charts[0]).toContain('pass &lt; 0.5');
    expect(section).toContain('reference (seed 1)');
    expect(html).not.toContain('<script');
  });

  it('an exercise without attempts says how to start it', () => {
    expect(renderWorkshopReport([first!], [])).toContain(`chaoslab workshop start ${first!.number}`);
  });
});
