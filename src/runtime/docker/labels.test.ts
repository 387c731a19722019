import { describe, expect, it } from 'vitest';
import { createLabels, formatOwner, objectName, parseOwner, partName, runFilter } from './labels.js';

describe('labels', () => {
  it('every object carries the lab mark and its run; the rest only when given', () => {
    expect(createLabels('r1')).toEqual({ chaoslab: '1', 'chaoslab.run': 'r1' });
    expect(createLabels('r1', { scenario: 'hello-latency', node: 'backend', part: 'node', owner: 'h/1/2' })).toEqual({
      chaoslab: '1',
      'chaoslab.run': 'r1',
      'chaoslab.scenario': 'hello-latency',
      'chaoslab.node': 'backend',
      'chaoslab.part': 'node',
      'chaoslab.owner': 'h/1/2',
    });
  });

  it('filters select one run or every run', () => {
    expect(runFilter('r1')).toEqual({ label: ['chaoslab.run=r1'] });
    expect(runFilter()).toEqual({ label: ['chaoslab.run'] });
  });

  it('owners round-trip, with or without a start time', () => {
    expect(parseOwner(formatOwner({ host: 'box', pid: 42, startTime: '123' }))).toEqual({ host: 'box', pid: 42, startTime: '123' });
    expect(parseOwner(formatOwner({ host: 'a/b', pid: 7, startTime: null }))).toEqual({ host: 'a/b', pid: 7, startTime: null });
    expect(parseOwner('garbage')).toBeUndefined();
    expect(parseOwner(undefined)).toBeUndefined();
  });

  it('object names stay within what Docker accepts', () => {
    expect(objectName('chaoslab', '20261128-061811-hello-latency-7', 'storage-2')).toBe('chaoslab-20261128-061811-hello-latency-7-storage-2');
    expect(objectName('-x', 'a b/c')).toBe('x-a-b-c');
    // A node named like a part cannot take the part's name.
    expect(partName('r1', 'toxiproxy')).toBe('chaoslab-r1_toxiproxy');
    expect(objectName('chaoslab', 'r1', 'toxiproxy')).not.toBe(partName('r1', 'toxiproxy'));
  });
});
