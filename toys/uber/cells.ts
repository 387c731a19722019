/**
 * The city as hexagonal cells, in the spirit of H3 (Uber's hexagonal index): a hexagon of `rings` rings around the
 * centre, each cell `cellMeters` across, numbered row by row. Index shards own contiguous ranges of cell ids, so
 * adding a shard moves whole ranges (what a resharding does). Driver movement is a pure function of the driver id
 * and the time, so every node computes the same true position without sharing state.
 */
export interface Point {
  x: number;
  y: number;
}

export class HexGrid {
  readonly #ids = new Map<string, number>();
  readonly #coords: [number, number][] = [];

  constructor(
    readonly rings: number,
    readonly cellMeters: number,
  ) {
    if (!(Number.isInteger(rings) && rings >= 1 && rings <= 64)) throw new RangeError(`rings must be an integer 1..64, got ${rings}`);
    if (!(cellMeters > 0)) throw new RangeError(`cellMeters must be > 0, got ${cellMeters}`);
    for (let q = -rings; q <= rings; q++) {
      for (let r = Math.max(-rings, -q - rings); r <= Math.min(rings, -q + rings); r++) {
        this.#ids.set(`${q},${r}`, this.#coords.length);
        this.#coords.push([q, r]);
      }
    }
  }

  get cellCount(): number {
    return this.#coords.length;
  }

  /** Radius of the city in metres (cells are pointy-top hexagons of `cellMeters` across). */
  get radiusMeters(): number {
    return this.rings * this.cellMeters;
  }

  /** The cell a point is in; a point outside the city is pulled towards the centre until it is inside. */
  cellOf(p: Point): number {
    const size = this.cellMeters / Math.sqrt(3);
    for (let scale = 1; ; scale *= 0.9) {
      const q = ((Math.sqrt(3) / 3) * p.x * scale - (p.y * scale) / 3) / size;
      const r = ((2 / 3) * p.y * scale) / size;
      const id = this.#ids.get(roundHex(q, r).join(','));
      if (id !== undefined) return id;
    }
  }

  /** The cell and its neighbours within `k` rings (H3's k-ring), inside the city. */
  kRing(cell: number, k: number): number[] {
    const [q0, r0] = this.#coords[cell]!;
    const out: number[] = [];
    for (let dq = -k; dq <= k; dq++) {
      for (let dr = Math.max(-k, -dq - k); dr <= Math.min(k, -dq + k); dr++) {
        const id = this.#ids.get(`${q0 + dq},${r0 + dr}`);
        if (id !== undefined) out.push(id);
      }
    }
    return out;
  }
}

function roundHex(q: number, r: number): [number, number] {
  const s = -q - r;
  let rq = Math.round(q);
  let rr = Math.round(r);
  const rs = Math.round(s);
  const dq = Math.abs(rq - q);
  const dr = Math.abs(rr - r);
  const ds = Math.abs(rs - s);
  if (dq > dr && dq > ds) rq = -rr - rs;
  else if (dr > ds) rr = -rq - rs;
  return [rq + 0, rr + 0];
}

/** Which of `shards` shards owns a cell: shard i owns ids [i·C/n, (i+1)·C/n). */
export function ownerOf(cell: number, cellCount: number, shards: number): number {
  if (shards < 1) throw new RangeError('no shards');
  return Math.min(shards - 1, Math.floor((cell * shards) / cellCount));
}

function hash01(n: number, salt: number): number {
  let h = (Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * Where driver `driver` truly is at `nowMs`: each driver circles its own centre at city speed (about 10 m/s), so a
 * position that is 20 s old is about 200 m off. Deterministic: the gateway and dispatch agree without talking.
 */
export function driverPosition(driver: number, nowMs: number, cityRadiusMeters: number, speedMps = 10): Point {
  const a = hash01(driver, 1) * 2 * Math.PI;
  const d = Math.sqrt(hash01(driver, 2)) * cityRadiusMeters * 0.65;
  const loop = (0.05 + hash01(driver, 3) * 0.1) * cityRadiusMeters;
  const phase = hash01(driver, 4) * 2 * Math.PI;
  const angle = phase + ((nowMs / 1000) * speedMps) / loop;
  return { x: d * Math.cos(a) + loop * Math.cos(angle), y: d * Math.sin(a) + loop * Math.sin(angle) };
}

export function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
