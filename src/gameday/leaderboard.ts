/**
 * The leaderboard of teams that played the same incident (one scenario, one seed): `<runs>/gameday-leaderboard-
 * <scenario>-seed<N>.json`, one row per game, best first (recovered before not, then time to mitigate, error
 * budget, hints). Each `gameday end` adds its row.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Score } from './score.js';

export interface LeaderboardRow {
  team: string;
  game: string;
  ttdSeconds: number | null;
  ttmSeconds: number | null;
  errorBudgetBurned: number | null;
  hintsUsed: number;
  recoveredBy: string;
}

export function leaderboardFile(runsDir: string, scenario: string, seed: number): string {
  return path.join(runsDir, `gameday-leaderboard-${scenario}-seed${seed}.json`);
}

const orNull = (v: number | null): number => (v === null ? Number.POSITIVE_INFINITY : v);

/** Best first. */
export function rankRows(rows: LeaderboardRow[]): LeaderboardRow[] {
  return [...rows].sort((a, b) => orNull(a.ttmSeconds) - orNull(b.ttmSeconds) || orNull(a.errorBudgetBurned) - orNull(b.errorBudgetBurned) || a.hintsUsed - b.hintsUsed || orNull(a.ttdSeconds) - orNull(b.ttdSeconds));
}

export function rowOf(s: Score): LeaderboardRow {
  return {
    team: s.team,
    game: s.game,
    ttdSeconds: s.ttdSeconds,
    ttmSeconds: s.ttmSeconds,
    errorBudgetBurned: s.errorBudgetBurned,
    hintsUsed: s.hintsUsed,
    recoveredBy: s.recoveredBy === null ? 'not recovered' : s.recoveredBy === 'self-healed' ? 'self-healed' : `${s.recoveredBy.kind} ${s.recoveredBy.text}`,
  };
}

export function addToLeaderboard(runsDir: string, score: Score): string {
  const file = leaderboardFile(runsDir, score.scenario, score.seed);
  let rows: LeaderboardRow[] = [];
  if (existsSync(file)) {
    try {
      rows = (JSON.parse(readFileSync(file, 'utf8')) as { rows: LeaderboardRow[] }).rows ?? [];
    } catch {
      rows = [];
    }
  }
  rows = rankRows([...rows.filter((r) => r.game !== score.game), rowOf(score)]);
  writeFileSync(file, `${JSON.stringify({ scenario: score.scenario, seed: score.seed, rows }, null, 2)}\n`);
  return file;
}
