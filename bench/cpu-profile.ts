/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or `bench/http.ts --cpu-prof DIR`): the
 * functions with the most self time, and the most inclusive time (a function with everything
 * it called), each as a share of the sampled time.
 *
 *   node --import tsx bench/cpu-profile.ts FILE.cpuprofile [--top 25] [--from SECONDS]
 *
 * `--from` leaves out the first seconds of the profile (a server's start and index build), so
 * what is summarised is the process under load.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: bench/cpu-profile.ts FILE.cpuprofile [--top N]');
const topAt = process.argv.indexOf('--top');
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
const fromAt = process.argv.indexOf('--from');
const fromMicros = fromAt > 0 ? Number(process.argv[fromAt + 1]) * 1e6 : 0;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules\/|src\/|dist\/)/, '$1')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

// Time of each sample: the delta to the next one.
const selfTime = new Map<number, number>();
let total = 0;
let elapsed = 0;
for (let i = 0; i < profile.samples.length; i += 1) {
  elapsed += profile.timeDeltas[i]!;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (elapsed < fromMicros) continue;
  selfTime.set(profile.samples[i]!, (selfTime.get(profile.samples[i]!) ?? 0) + dt);
  total += dt;
}
let idle = 0;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of selfTime) {
  const node = byId.get(id)!;
  if (node.callFrame.functionName === '(idle)') idle += t;
  const name = label(node);
  self.set(name, (self.get(name) ?? 0) + t);
  // Each label once per stack, however deep its recursion.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const l = label(byId.get(at)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + t);
  }
}
const busy = total - idle;
const pct = (t: number) => `${((t / busy) * 100).toFixed(1).padStart(5)} %`;
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (share of ${(busy / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle)\n`);
  for (const [name, t] of [...m].filter(([n]) => !n.startsWith('(idle)') && !n.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${pct(t)}  ${name}\n`);
  }
};
show('self time', self);
show('inclusive time', inclusive);
