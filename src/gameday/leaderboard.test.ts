import { describe, expect, it } from 'vitest';
import { rankRows, type LeaderboardRow } from './leaderboard.js';

const row = (team: string, ttm: number | null, burned: number | null, hints = 0): LeaderboardRow => ({ team, game: team, ttdSeconds: 1, ttmSeconds: ttm, errorBudgetBurned: burned, hintsUsed: hints, recoveredBy: '' });

describe('leaderboard', () => {
  it('ranks by time to mitigate, then error budget, then hints; not recovered last', () => {
    expect(rankRows([row('none', null, 1), row('slow', 90, 2), row('fast-hints', 30, 1, 2), row('fast', 30, 1)]).map((r) => r.team)).toEqual(['fast', 'fast-hints', 'slow', 'none']);
  });
});
