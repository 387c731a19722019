/**
 * debrief.md: a blameless postmortem draft in the usual template, filled with the game's numbers and timeline;
 * contributing factors come from the scenario's incident block. What went well and the action items are the
 * team's to write.
 */
import type { ScenarioPlan } from '../scenario/plan.js';
import type { Deal } from './deal.js';
import type { Score } from './score.js';

const t = (ms: number | null): string => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);
const n = (v: number | null, unit = ' s'): string => (v === null ? '—' : `${v}${unit}`);

export function debriefMarkdown(plan: Pick<ScenarioPlan, 'id' | 'title' | 'incident'>, deal: Deal, score: Score): string {
  const b = score.errorBudget;
  const recovered =
    score.recoveredBy === null ? 'The SLO did not recover before the game ended.' : score.recoveredBy === 'self-healed' ? 'The SLO recovered with no change by the team (self-healed).' : `The SLO recovered after the team's \`${score.recoveredBy.kind} ${score.recoveredBy.text}\` at ${t(score.recoveredBy.atMs)}.`;
  const timeline = [
    // The fault's own line comes from the score (the lab's `fault` record says the same).
    ...score.actions.filter((a) => !(a.by === 'lab' && a.kind === 'fault')).map((a) => ({ atMs: a.atMs, line: `${a.by} **${a.kind}**${a.text ? `: ${a.text}` : ''}${a.ok ? '' : ` (refused: ${a.detail ?? ''})`}` })),
    ...(score.faultStartMs !== null ? [{ atMs: score.faultStartMs, line: `**fault on** (hidden from the team): ${deal.description}` }] : []),
    ...(score.firstSignalMs !== null ? [{ atMs: score.firstSignalMs, line: '**first signal**: the first sample breaking an SLO' }] : []),
    ...(score.recoveredMs !== null ? [{ atMs: score.recoveredMs, line: '**recovered**: the SLO holds from here to the end' }] : []),
  ].sort((a, c) => a.atMs - c.atMs);
  return `# Debrief: game day on ${plan.id}, team ${score.team} (seed ${score.seed})

_A blameless draft written by chaoslab from the game's journal and Prometheus. People acted on what they knew at
the time; this document is about the system and how we learn about it, not about who did what._

## Summary

${plan.title}. The hidden fault was **${deal.description}**, on at ${t(score.faultStartMs)} into the game.
${recovered}

## Impact

| measure | value |
| --- | --- |
| first signal (an SLO broke) | ${t(score.firstSignalMs)} |
| declared | ${t(score.declaredMs)} |
| time to detect (declare − fault start) | ${n(score.ttdSeconds)} |
| detection lag (declare − first signal) | ${n(score.detectionLagSeconds)} |
| time to mitigate (recovered − fault start) | ${n(score.ttmSeconds)} |
| requests | ${b ? b.total : '—'} |
| bad requests (failed, or slower than the SLO) | ${b ? `${b.bad} (${b.failed} failed, ${b.tooSlow} too slow)` : '—'} |
| error budget burned (SLO ${b ? b.target * 100 : '—'} %) | ${score.errorBudgetBurned === null ? '—' : `${Math.round(score.errorBudgetBurned * 100)} % of the game's budget`} |
| hints used | ${score.hintsUsed} |
| par (\`gameday par\`) | ${score.par.available ? score.par.summary : '—'} |
| changes that made a metric worse | ${score.madeWorse.length ? score.madeWorse.map((a) => `${a.kind} ${a.text} at ${t(a.atMs)}`).join('; ') : 'none'} |

SLOs scored: ${score.slos.length ? [...new Set(score.slos)].map((s) => `"${s}"`).join(', ') : '—'}. The game ended: ${score.endedBy}, at ${t(score.endedMs)}.

## Timeline

Times are from the start of the load.

${timeline.map((e) => `- ${t(e.atMs)} ${e.line}`).join('\n')}

## Contributing factors

- ${plan.incident.rootCause}
- In production: ${plan.incident.summary}
${plan.incident.documented.map((d) => `- ${d.fact} (${d.source})`).join('\n')}

## Lesson

${plan.incident.lesson}

## What went well

- 

## What was hard

- 

## Action items

| action | owner | due |
| --- | --- | --- |
|  |  |  |
`;
}
