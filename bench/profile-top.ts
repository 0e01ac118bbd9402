/**
 * The top entries of a V8 CPU profile (`node --cpu-prof`), by self time: what bench/README.md quotes
 * before and after a performance change. `npx tsx bench/profile-top.ts FILE.cpuprofile [N]`.
 * Garbage collection, idle time and the program itself are V8's pseudo-functions "(garbage
 * collector)", "(idle)" and "(program)"; shares are of the samples that were not idle.
 */
import fs from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

export function topOfProfile(profile: Profile, n = 15): Array<{ what: string; share: number }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === "(idle)") continue;
    busy++;
    const where = f.url ? `${path.basename(f.url.replace(/^file:\/\//, ""))}:${f.lineNumber + 1}` : "";
    const what = `${f.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([what, c]) => ({ what, share: Math.round((c / busy) * 1000) / 10 }));
}

if (process.argv[1]?.endsWith("profile-top.ts")) {
  const [file, n] = process.argv.slice(2);
  if (!file) throw new Error("usage: tsx bench/profile-top.ts FILE.cpuprofile [N]");
  const top = topOfProfile(JSON.parse(fs.readFileSync(file, "utf8")) as Profile, Number(n ?? 15));
  for (const t of top) console.log(`${String(t.share).padStart(5)} %  ${t.what}`);
}
