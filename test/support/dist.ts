/** The built entry points (test/support/global-setup.ts builds them before the suite). */
import path from "node:path";
import { projectRoot } from "../../src/paths.ts";

/** `dist/src/tools/<name>.mjs` for `src/tools/<name>.ts`. */
export const distTool = (script: string) =>
  path.join(projectRoot, "dist", "src", "tools", script.replace(/\.ts$/, ".mjs"));
export const distMain = path.join(projectRoot, "dist", "src", "main.mjs");
