/** The `workshop` command's table (commands.ts lists it; workshop.ts runs it). */
import type { CliOptions, CommandSpec } from './options.js';

export interface WorkshopValues {
  dir?: string;
  seed?: string;
  reference: boolean;
  'with-starter': boolean;
  json: boolean;
}

const OPTIONS: CliOptions<WorkshopValues> = {
  dir: { type: 'string', argument: 'dir', description: "the learner's folder: modules, attempts/ and runs/ (default: the current folder)" },
  seed: { type: 'string', argument: 'n', description: 'check: replay with this seed (default 1, so attempts compare; a whole number from 0 to 4294967295)' },
  reference: { type: 'boolean', description: 'check: grade the shipped reference solution instead of your module' },
  'with-starter': { type: 'boolean', description: "check: also replay the exercise's shipped starter in the same run (a second variant, as long again) and grade it beside yours" },
  json: { type: 'boolean', description: 'print one JSON document on stdout instead of the human view' },
};

export const WORKSHOP: CommandSpec<WorkshopValues> = {
  name: 'workshop',
  summary: 'Exercises where you write the mitigation: list, start N (writes a starter), check N (replays and grades it), report.',
  synopsis: 'list | start <n> | check <n> | report [options]',
  details: [
    'list: the exercises in teaching order, each with its goal and the incident it comes from.',
    "start <n>: writes exercise n's starter module into --dir and says what to do.",
    "check <n>: replays the exercise's short scenario with your module loaded into the toy, and grades it in tiers (pass, better, best) with the numbers and a hint; exit 0 when pass is reached, 1 when not. Every attempt is kept under <dir>/attempts/.",
    'report: writes <dir>/workshop-report.html, your attempts side by side (one chart per target).',
  ],
  options: OPTIONS,
  maxPositionals: 2,
  examples: ['chaoslab workshop list', 'chaoslab workshop start 1 --dir my-workshop', 'chaoslab workshop check 1 --dir my-workshop', 'chaoslab workshop check 1 --reference --json', 'chaoslab workshop check 6 --reference --with-starter', 'chaoslab workshop report --dir my-workshop'],
  stateDir: true,
};

