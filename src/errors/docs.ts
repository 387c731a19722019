/** `docs/errors.md`, rendered from the catalog: the page can never list a code the lab does not have. */
import { Errors } from './catalog.js';
import { LabError, type ErrorKind } from './lab-error.js';

const KINDS: Record<ErrorKind, { heading: string; about: string }> = {
  input: { heading: 'Bad input', about: 'Something the user gave (a file, a flag, the environment) is wrong. Nothing was started.' },
  part: { heading: 'A real part failed', about: 'Toxiproxy, Prometheus, a node, the Docker engine or the load generator failed. The message names the part.' },
  internal: { heading: 'A bug in chaoslab', about: 'Not the user\'s doing: please report it.' },
};

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderErrorDocs(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/errors/catalog.ts by `npm run build` (src/errors/write-docs.ts). Do not edit by hand. -->',
    '',
    'Every error chaoslab reports carries one of these codes, in brackets after the message (`[CHAOSLAB_…]`) and in',
    '`result.json`. Codes are permanent. The hint printed with an error is specific to it; the one below is the default.',
  ];
  for (const [kind, about] of Object.entries(KINDS) as [ErrorKind, (typeof KINDS)[ErrorKind]][]) {
    const entries = Object.entries(Errors).filter(([, e]) => e.kind === kind);
    if (entries.length === 0) continue;
    // The exit code as LabError computes it, so the page follows any change there.
    const exit = new LabError({ code: 'CHAOSLAB_DOCS', kind, title: '' }, '').exitCode;
    lines.push('', `## ${about.heading} (exit ${exit})`, '', about.about, '', '| code | name | what happened | default hint |', '| --- | --- | --- | --- |');
    for (const [name, e] of entries) lines.push(`| \`${e.code}\` | ${name} | ${cell(e.title)} | ${'hint' in e ? cell(e.hint) : ''} |`);
  }
  return `${lines.join('\n')}\n`;
}
