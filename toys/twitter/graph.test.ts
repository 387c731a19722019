import { describe, expect, it } from 'vitest';
import { buildFollowerGraph, checkGraphSpec, type GraphSpec } from './graph.js';

const spec: GraphSpec = { users: 2000, celebrities: 3, celebrityFollowers: 1500, follows: 12, seed: 42 };

describe('twitter/graph', () => {
  it('gives each celebrity exactly celebrityFollowers distinct ordinary followers', () => {
    const g = buildFollowerGraph(spec);
    for (let c = 0; c < 3; c++) {
      const f = g.followers(c);
      expect(f.length).toBe(1500);
      expect(new Set(f).size).toBe(1500);
      expect([...f].every((u) => u >= 3)).toBe(true);
    }
  });

  it('makes every ordinary user follow `follows` ordinary accounts, never itself', () => {
    const g = buildFollowerGraph(spec);
    for (let u = 3; u < spec.users; u++) {
      const ordinary = [...g.followees(u)].filter((f) => f >= 3);
      expect(ordinary.length).toBe(12);
      expect(new Set(ordinary).size).toBe(12);
      expect(ordinary).not.toContain(u);
    }
  });

  it('keeps followers and followees inverse of each other', () => {
    const g = buildFollowerGraph(spec);
    let edges = 0;
    for (let a = 0; a < spec.users; a++) {
      for (const f of g.followers(a)) {
        if (!g.followees(f).includes(a)) throw new Error(`${f} follows ${a} but does not list it`);
        edges++;
      }
    }
    expect(edges).toBe(3 * 1500 + (spec.users - 3) * 12);
  });

  it('is the same graph for the same seed in every process, another for another seed', () => {
    const a = buildFollowerGraph(spec);
    const b = buildFollowerGraph({ ...spec });
    const c = buildFollowerGraph({ ...spec, seed: 43 });
    expect([...b.followers(0)]).toEqual([...a.followers(0)]);
    expect([...b.followees(500)]).toEqual([...a.followees(500)]);
    expect([...c.followers(0)]).not.toEqual([...a.followers(0)]);
  });

  it('refuses impossible specs with every reason', () => {
    expect(checkGraphSpec({ users: 10, celebrities: 2, celebrityFollowers: 9, follows: 8, seed: 1 })).toEqual([
      'celebrityFollowers must be an integer in 0..8 (the ordinary users), got 9',
      'follows must be an integer in 0..7, got 8',
    ]);
    expect(() => buildFollowerGraph({ users: 1, celebrities: 0, celebrityFollowers: 0, follows: 0, seed: 1 })).toThrow(/users must be/);
  });
});
