/**
 * The images of the Docker runtime and how they are built: from this machine's files (no registry: the Node
 * binary the lab runs on, the Toxiproxy and Prometheus binaries, each with the shared libraries `ldd` lists), or
 * from the official images where a registry is reachable. Recipes are the Dockerfiles in docker/; the contexts are
 * staged under `.chaoslab/images/`. Every image is labelled with a hash of its inputs, so an unchanged image is
 * not rebuilt, and a toy change rebuilds only the small toys layer.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { LabError } from '../../errors/lab-error.js';
import { findPrometheusBinary } from '../../observe/prometheus-server.js';
import { findToxiproxyBinary } from '../../fault/toxiproxy-server.js';
import type { DockerEngine } from './engine.js';
import { findLibfaketime } from '../fake-clock.js';
import { Errors } from '../../errors/catalog.js';

export const IMAGES = {
  node: 'chaoslab-node:latest',
  toys: 'chaoslab-toys:latest',
  toxiproxy: 'chaoslab-toxiproxy:latest',
  prometheus: 'chaoslab-prometheus:latest',
} as const;

/** Where things are inside the images (the same in local and official builds). */
export const IN_IMAGE = {
  node: '/usr/local/bin/node',
  /** coreutils' sleep (the official node image has it there too). */
  sleep: '/bin/sleep',
  app: '/app',
  /** libfaketime.so.1 from this machine (Debian's libfaketime), for nodes a clock fault targets (fake-clock.ts). */
  libfaketime: '/app/faketime/libfaketime.so.1',
  /** The load generator as a server (src/workload/remote): the Kubernetes runtime's load pod runs it. */
  loadServer: '/app/dist/src/workload/remote/load-server-main.js',
} as const;

/** The lab's own module a pod runs from the toys image (with the modules it imports, and their packages). */
const LOAD_SERVER_ENTRY = path.join('dist', 'src', 'workload', 'remote', 'load-server-main.js');

export const OFFICIAL_BASES = {
  node: 'node:20-bookworm-slim',
} as const;

export type ImageSource = 'local' | 'official' | 'auto';
export type ImageName = keyof typeof IMAGES;

const INPUTS_LABEL = 'chaoslab.inputs';
const SOURCE_LABEL = 'chaoslab.source';

export interface ImageOptions {
  projectRoot: string;
  /** PATH, to find toxiproxy-server and prometheus as the process runtime does. */
  envPath: string;
  source: ImageSource;
  toxiproxyBinary?: string;
  prometheusBinary?: string;
  /** The Node.js binary to put in the local toys image; default the one running the lab. */
  nodeBinary?: string;
  /** Build even when the inputs label matches (the engine's layer cache still applies). */
  force?: boolean;
  onLog?: (image: string, line: string) => void;
  /** Before an image is sent to the engine to build (a cached image says nothing): for progress on a terminal. */
  onBuildStart?: (image: string) => void;
}

export interface ImageOutcome {
  image: string;
  source: 'local' | 'official';
  /** `cached`: the image's inputs label matched, nothing was sent to the engine. */
  status: 'built' | 'cached';
  ms: number;
}

interface Recipe {
  image: string;
  source: 'local' | 'official';
  dockerfile: string;
  buildArgs?: Record<string, string>;
  /** Fills the context folder; returns the entries to pack (relative to it). */
  stage(dir: string): string[];
  /** Identity of the inputs (paths, sizes, mtimes, Dockerfile text); cheap to compute. */
  fingerprint(): string;
}

/**
 * Builds whatever is missing or out of date, in dependency order (the toys image needs its base).
 * Idempotent and cheap when everything is current: one stat per input file and one inspect per image.
 */
export async function ensureImages(engine: DockerEngine, opts: ImageOptions): Promise<ImageOutcome[]> {
  const out: ImageOutcome[] = [];
  // `auto` keeps the source each image was last built from (a user who chose the official images keeps them);
  // an image never built comes from local files where its binary is here, else from the official image.
  const built = async (image: string) => (await engine.imageLabels(image))?.[SOURCE_LABEL] as 'local' | 'official' | undefined;
  const sources: Record<'toys' | 'toxiproxy' | 'prometheus', ImageSource> =
    opts.source === 'auto'
      ? { toys: (await built(IMAGES.toys)) ?? 'auto', toxiproxy: (await built(IMAGES.toxiproxy)) ?? 'auto', prometheus: (await built(IMAGES.prometheus)) ?? 'auto' }
      : { toys: opts.source, toxiproxy: opts.source, prometheus: opts.source };
  const plan = planImages(opts, sources);
  for (const r of plan) out.push(await ensureOne(engine, r, opts));
  // Replaced base images linger untagged once nothing builds on them any more.
  if (out.some((o) => o.status === 'built')) await engine.pruneDanglingImages();
  return out;
}

/** Which images the run needs, and fails with `ImageMissing` naming the command that builds them. */
export async function checkImages(engine: DockerEngine): Promise<void> {
  const missing: string[] = [];
  for (const image of [IMAGES.toys, IMAGES.toxiproxy, IMAGES.prometheus]) {
    if ((await engine.imageLabels(image)) === undefined) missing.push(image);
  }
  if (missing.length) {
    throw new LabError(Errors.ImageMissing, `the Docker engine has no ${missing.join(', ')}`, { hint: 'build them: npx chaoslab images build' });
  }
}

function planImages(opts: ImageOptions, sources: Record<'toys' | 'toxiproxy' | 'prometheus', ImageSource>): Recipe[] {
  const recipes: Recipe[] = [];
  // Toxiproxy and Prometheus: local when the binary is here (an explicit `local` insists on it).
  const toxiproxy =
    sources.toxiproxy === 'official' ? undefined : findBinary(() => findToxiproxyBinary({ projectRoot: opts.projectRoot, envPath: opts.envPath, ...(opts.toxiproxyBinary ? { override: opts.toxiproxyBinary } : {}) }), sources.toxiproxy);
  const prometheus = sources.prometheus === 'official' ? undefined : findBinary(() => findPrometheusBinary({ envPath: opts.envPath, ...(opts.prometheusBinary ? { override: opts.prometheusBinary } : {}) }), sources.prometheus);
  const dockerDir = path.join(opts.projectRoot, 'docker');
  const nodeLocal = sources.toys !== 'official';
  if (nodeLocal) {
    const nodeBinary = realpathSync(opts.nodeBinary ?? process.execPath);
    // `sleep` holds each node's network namespace (sandboxes.ts) for a millisecond of CPU, where node costs 100.
    const binaries = [{ from: nodeBinary, to: IN_IMAGE.node }, ...(findSleep() ? [{ from: findSleep()!, to: IN_IMAGE.sleep }] : [])];
    recipes.push(rootfsRecipe(IMAGES.node, path.join(dockerDir, 'local', 'node.Dockerfile'), binaries, { passwd: true }));
  }
  recipes.push(toysRecipe(opts.projectRoot, path.join(dockerDir, 'toys.Dockerfile'), nodeLocal ? IMAGES.node : OFFICIAL_BASES.node, nodeLocal ? 'local' : 'official'));
  recipes.push(
    toxiproxy
      ? rootfsRecipe(IMAGES.toxiproxy, path.join(dockerDir, 'local', 'toxiproxy.Dockerfile'), [{ from: realpathSync(toxiproxy), to: '/usr/local/bin/toxiproxy-server' }])
      : officialRecipe(IMAGES.toxiproxy, path.join(dockerDir, 'official', 'toxiproxy.Dockerfile')),
  );
  recipes.push(
    prometheus
      ? rootfsRecipe(IMAGES.prometheus, path.join(dockerDir, 'local', 'prometheus.Dockerfile'), [{ from: realpathSync(prometheus), to: '/bin/prometheus' }])
      : officialRecipe(IMAGES.prometheus, path.join(dockerDir, 'official', 'prometheus.Dockerfile')),
  );
  return recipes;
}

function findSleep(): string | undefined {
  for (const p of ['/bin/sleep', '/usr/bin/sleep']) if (existsSync(p)) return realpathSync(p);
  return undefined;
}

/** In `auto`, a missing binary means "use the official image"; in `local` it is the user's error to fix. */
function findBinary(find: () => string, source: ImageSource): string | undefined {
  try {
    return find();
  } catch (e) {
    if (source === 'local') throw e;
    return undefined;
  }
}

async function ensureOne(engine: DockerEngine, r: Recipe, opts: ImageOptions): Promise<ImageOutcome> {
  const started = performance.now();
  const stagingRoot = path.join(opts.projectRoot, '.chaoslab', 'images');
  let fingerprint = r.fingerprint();
  // The toys image is only as current as its base: fold the base's identity in.
  if (r.image === IMAGES.toys && r.source === 'local') fingerprint = hash(fingerprint, (await engine.imageLabels(IMAGES.node))?.[INPUTS_LABEL] ?? 'none');
  const current = await engine.imageLabels(r.image);
  if (!opts.force && current?.[INPUTS_LABEL] === fingerprint) {
    return { image: r.image, source: r.source, status: 'cached', ms: Math.round(performance.now() - started) };
  }
  const dir = path.join(stagingRoot, r.image.replace(/[:/]/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entries = r.stage(dir);
  copyFileSync(r.dockerfile, path.join(dir, 'Dockerfile'));
  const previous = await engine.imageId(r.image);
  opts.onBuildStart?.(r.image);
  await engine.buildImage({
    contextDir: dir,
    entries: ['Dockerfile', ...entries],
    tag: r.image,
    labels: { [INPUTS_LABEL]: fingerprint, [SOURCE_LABEL]: r.source, chaoslab: '1' },
    ...(r.buildArgs ? { buildArgs: r.buildArgs } : {}),
    ...(opts.onLog ? { onLog: (line: string) => opts.onLog!(r.image, line) } : {}),
  });
  // The replaced image would linger untagged; drop it unless a container still uses it.
  const now = await engine.imageId(r.image);
  if (previous && previous !== now) await engine.removeImage(previous);
  return { image: r.image, source: r.source, status: 'built', ms: Math.round(performance.now() - started) };
}

// --- recipes

interface FileCopy {
  from: string;
  /** Absolute path inside the image. */
  to: string;
}

/** FROM scratch images: the binaries, every library `ldd` lists for them, and the dynamic loader. */
function rootfsRecipe(image: string, dockerfile: string, binaries: FileCopy[], extra: { passwd?: boolean } = {}): Recipe {
  const files = (): FileCopy[] => {
    const all = new Map<string, FileCopy>();
    for (const b of binaries) {
      all.set(b.to, b);
      for (const lib of sharedLibraries(b.from)) all.set(lib, { from: realpathSync(lib), to: lib });
    }
    return [...all.values()];
  };
  return {
    image,
    source: 'local',
    dockerfile,
    fingerprint: () => hash(readFileSync(dockerfile, 'utf8'), ...files().map(describeFile), extra.passwd ? PASSWD : ''),
    stage(dir) {
      const root = path.join(dir, 'rootfs');
      for (const f of files()) placeFile(f.from, path.join(root, f.to));
      // Mount points the engine fills (resolv.conf, hosts) and a home for /tmp's tmpfs.
      mkdirSync(path.join(root, 'etc'), { recursive: true });
      mkdirSync(path.join(root, 'tmp'), { recursive: true });
      if (extra.passwd) writeFileSync(path.join(root, 'etc', 'passwd'), PASSWD);
      return ['rootfs'];
    },
  };
}

/** Only what the user `nobody` needs, so `os.userInfo()` and friends work. */
const PASSWD = 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n';

function officialRecipe(image: string, dockerfile: string): Recipe {
  return {
    image,
    source: 'official',
    dockerfile,
    fingerprint: () => hash(readFileSync(dockerfile, 'utf8')),
    stage: () => [],
  };
}

/**
 * The compiled toys (dist/toys), the npm packages they import with everything those depend on, and a
 * package.json with "type": "module" (the toys are ES modules).
 */
function toysRecipe(projectRoot: string, dockerfile: string, base: string, source: 'local' | 'official'): Recipe {
  const toysDir = path.join(projectRoot, 'dist', 'toys');
  const files = (): FileCopy[] => {
    if (!existsSync(toysDir)) {
      throw new LabError(Errors.ImageBuildFailed, `the toys are not built (${toysDir} is missing)`, { hint: 'run `npm run build` first' });
    }
    const out = new Map<string, FileCopy>();
    const add = (f: FileCopy) => out.set(f.to, f);
    const toyFiles = listFiles(toysDir).filter((f) => !/\.test\.js(\.map)?$/.test(f));
    for (const f of toyFiles) add({ from: f, to: path.posix.join(IN_IMAGE.app, 'dist', 'toys', path.relative(toysDir, f).split(path.sep).join('/')) });
    // The load server (Kubernetes: the load runs in the cluster, from this image): only what it imports.
    const loadServerEntry = path.join(projectRoot, LOAD_SERVER_ENTRY);
    if (!existsSync(loadServerEntry)) {
      throw new LabError(Errors.ImageBuildFailed, `the load server is not built (${loadServerEntry} is missing)`, { hint: 'run `npm run build` first' });
    }
    const labFiles = moduleClosure(loadServerEntry);
    for (const f of labFiles) add({ from: f, to: path.posix.join(IN_IMAGE.app, path.relative(projectRoot, f).split(path.sep).join('/')) });
    for (const dir of packageClosure(projectRoot, importedPackages([...toyFiles.filter((f) => f.endsWith('.js')), ...labFiles]))) {
      for (const f of listFiles(dir)) add({ from: f, to: path.posix.join(IN_IMAGE.app, path.relative(projectRoot, f).split(path.sep).join('/')) });
    }
    // Built without it where it is missing: a run with a clock fault checks the host first (exit 3), and installing
    // it changes this fingerprint, so the image is rebuilt.
    const faketime = optionalLibfaketime();
    if (faketime) add({ from: faketime, to: IN_IMAGE.libfaketime });
    return [...out.values()];
  };
  return {
    image: IMAGES.toys,
    source,
    dockerfile,
    buildArgs: { BASE: base },
    fingerprint: () => hash(readFileSync(dockerfile, 'utf8'), base, APP_PACKAGE_JSON, ...files().map(describeFile)),
    stage(dir) {
      for (const f of files()) placeFile(f.from, path.join(dir, f.to));
      writeFileSync(path.join(dir, IN_IMAGE.app, 'package.json'), APP_PACKAGE_JSON);
      return ['app'];
    },
  };
}

function optionalLibfaketime(): string | undefined {
  try {
    return realpathSync(findLibfaketime());
  } catch {
    return undefined;
  }
}

const APP_PACKAGE_JSON = `${JSON.stringify({ name: 'chaoslab-toys', private: true, type: 'module' }, null, 2)}\n`;

/** `entry` and every module it imports by a relative specifier, transitively (compiled ES modules). */
export function moduleClosure(entry: string): string[] {
  const seen = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(re)) walk(path.resolve(path.dirname(file), m[1]!));
  };
  walk(path.resolve(entry));
  return [...seen];
}

/** Bare specifiers the toys import (`prom-client`, `@scope/pkg`), builtins excluded. */
export function importedPackages(jsFiles: string[]): string[] {
  const names = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"./][^'"]*)['"]/g;
  for (const f of jsFiles) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(re)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || isBuiltin(spec)) continue;
      const parts = spec.split('/');
      names.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
    }
  }
  return [...names].sort();
}

/** The package folders `names` need at run time: each one and its dependencies, as Node would resolve them. */
export function packageClosure(projectRoot: string, names: string[]): string[] {
  const found = new Set<string>();
  const visit = (name: string, fromDir: string, optional: boolean): void => {
    const dir = resolvePackageDir(projectRoot, name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new LabError(Errors.ImageBuildFailed, `the toys import ${name}, which is not installed`, { hint: 'run `npm ci`' });
    }
    if (found.has(dir)) return;
    found.add(dir);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    for (const d of Object.keys(pkg.dependencies ?? {})) visit(d, dir, false);
    for (const d of Object.keys({ ...pkg.optionalDependencies, ...pkg.peerDependencies })) visit(d, dir, true);
  };
  for (const n of names) visit(n, projectRoot, false);
  return [...found].sort();
}

/** Node's lookup: node_modules/<name> in the importing package's folder, then in each folder above it. */
function resolvePackageDir(projectRoot: string, name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === projectRoot || dir === path.dirname(dir) || !dir.startsWith(projectRoot)) return undefined;
  }
}

/** Absolute paths of the shared libraries and loader `ldd` lists; none for a static binary. */
export function sharedLibraries(binary: string): string[] {
  let text: string;
  try {
    text = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(out)) return [];
    throw new LabError(Errors.ImageBuildFailed, `cannot list the libraries of ${binary} with ldd: ${out.trim() || (e as Error).message}`, { hint: 'install ldd (Debian: libc-bin), or use --source official' });
  }
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** Hard link when possible (same file system: instant), else copy. The context holds plain files, no symlinks. */
function placeFile(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  from = realpathSync(from);
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...listFiles(p));
    } else if (e.isFile()) out.push(p);
    else if (e.isSymbolicLink()) {
      const real = realpathSync(p);
      if (statSync(real).isFile()) out.push(p);
    }
  }
  return out.sort();
}

/**
 * Small files by content (a rebuild of dist/ rewrites every toy file, mostly unchanged), big ones (the node,
 * Toxiproxy and Prometheus binaries) by size and modification time, to keep the check fast.
 */
function describeFile(f: FileCopy): string {
  const s = statSync(f.from);
  const identity = s.size <= 1024 * 1024 ? createHash('sha1').update(readFileSync(f.from)).digest('hex') : `${s.size}\0${Math.trunc(s.mtimeMs)}`;
  // Where a file comes from does not matter (another checkout of the same tree reuses the image), only what.
  return `${f.to}\0${identity}`;
}

function hash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\n');
  return h.digest('hex').slice(0, 24);
}

/** For `images build --source`: the one word users type. */
export function parseImageSource(v: string | undefined): ImageSource {
  if (v === undefined) return 'auto';
  if (v === 'local' || v === 'official' || v === 'auto') return v;
  throw new Error(`unknown image source "${v}"`);
}
