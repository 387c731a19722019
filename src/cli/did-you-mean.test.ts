import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from './did-you-mean.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions, and a swap of neighbours as one edit', () => {
    expect(editDistance('run', 'run')).toBe(0);
    expect(editDistance('rn', 'run')).toBe(1);
    expect(editDistance('runn', 'run')).toBe(1);
    expect(editDistance('rum', 'run')).toBe(1);
    expect(editDistance('rnu', 'run')).toBe(1);
    expect(editDistance('--varaint', '--variant')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closest', () => {
  const flags = ['--variant', '--control', '--seed', '--set', '--out', '--runtime', '--json', '--keep', '--live'];

  it('suggests a typo of a flag, the closest first', () => {
    expect(closest('--varaint', flags)).toEqual(['--variant']);
    expect(closest('--jsno', flags)).toEqual(['--json']);
    expect(closest('--sed', flags)).toEqual(['--seed', '--set']);
  });

  it('suggests a name cut short after the close typos', () => {
    expect(closest('--var', flags)).toEqual(['--variant']);
    expect(closest('--cont', flags)).toEqual(['--control']);
  });

  it('suggests nothing for an unrelated word', () => {
    expect(closest('--frobnicate', flags)).toEqual([]);
    expect(closest('', flags)).toEqual([]);
    expect(closest('deploy', ['list', 'validate', 'run', 'up', 'down'])).toEqual([]);
  });

  it('compares one-letter flags by case only', () => {
    expect(closest('-v', ['-h', '-V'])).toEqual(['-V']);
    expect(closest('-x', ['-h', '-V'])).toEqual([]);
  });

  it('finds close scenario ids', () => {
    const ids = ['dynamodb-2015-aws-recovery', 'dynamodb-2015-metadata-cascade', 'hello-latency', 'kafka-2013-zookeeper-split-brain'];
    expect(closest('hello-latncy', ids)).toEqual(['hello-latency']);
    expect(closest('hello', ids)).toEqual(['hello-latency']);
    expect(closest('dynamodb', ids)).toEqual(['dynamodb-2015-aws-recovery', 'dynamodb-2015-metadata-cascade']);
  });
});

describe('didYouMean', () => {
  it('reads as a sentence, or is empty', () => {
    expect(didYouMean('rnu', ['list', 'run'])).toBe(' (did you mean run?)');
    expect(didYouMean('--sed', ['--seed', '--set'])).toBe(' (did you mean --seed or --set?)');
    expect(didYouMean('zzz', ['list', 'run'])).toBe('');
  });
});
