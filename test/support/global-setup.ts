/**
 * Builds dist/ once before the suite (`npm run build`, esbuild, about a second): tests that need a
 * real process (kill, signals, the command-line tools) start the built files, as an operator's
 * `npm start` does, instead of compiling TypeScript in every child (tsx costs a second and more
 * of CPU per start, far more on a loaded machine).
 */
import { execFileSync } from "node:child_process";
import { projectRoot } from "../../src/paths.ts";

export default function setup() {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: projectRoot, stdio: "inherit" });
}
