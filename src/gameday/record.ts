/**
 * A running game day, as the CLI finds it: `<stateDir>/games/<game>.json`, written (private: it holds both tokens)
 * by the game's server once everything is up, removed when the game ends.
 */
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { isSameProcessAlive } from '../runtime/proc.js';
import { isOwnRegularFile, openStateDir, writePrivateFile } from '../runtime/state-dir.js';

export interface GameRecord {
  version: 1;
  game: string;
  /** The server process (`chaoslab gameday serve`). */
  pid: number;
  scenario: string;
  seed: number;
  team: string;
  runDir: string;
  startedAt: string;
  /** The participants' console (its token opens it) and their Prometheus: cluster and load metrics only. */
  participants: { console: string; token: string; prometheus: string };
  /** The facilitator's console, the run's full Prometheus and Toxiproxy's API. */
  facilitator: { console: string; token: string; prometheus: string; toxiproxy: string };
}

export function gamesDir(stateDir: string): string {
  return path.join(stateDir, 'games');
}

export function writeGame(stateDir: string, record: GameRecord): void {
  openStateDir(stateDir, { create: true });
  openStateDir(gamesDir(stateDir), { create: true });
  writePrivateFile(path.join(gamesDir(stateDir), `${record.game}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

export function forgetGame(stateDir: string, game: string): void {
  try {
    unlinkSync(path.join(gamesDir(stateDir), `${game}.json`));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export function readGame(stateDir: string, game: string): GameRecord | undefined {
  const file = path.join(gamesDir(stateDir), `${game}.json`);
  if (!isOwnRegularFile(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as GameRecord;
    return r.version === 1 && typeof r.game === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The running games; a record whose server is gone (killed: its reaper stopped the rest) is dropped. */
export function listGames(stateDir: string): GameRecord[] {
  if (openStateDir(stateDir, { create: false }) === undefined || openStateDir(gamesDir(stateDir), { create: false }) === undefined) return [];
  const records = readdirSync(gamesDir(stateDir))
    .filter((n) => n.endsWith('.json'))
    .map((n) => readGame(stateDir, n.slice(0, -'.json'.length)))
    .filter((r): r is GameRecord => r !== undefined);
  for (const r of records) if (!isSameProcessAlive(r.pid, null)) forgetGame(stateDir, r.game);
  return records.filter((r) => isSameProcessAlive(r.pid, null)).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
