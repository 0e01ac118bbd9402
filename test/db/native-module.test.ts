/**
 * After a Node upgrade without a rebuild, better-sqlite3 cannot load. The start must say that, and
 * how to mend it, instead of blaming the database folder.
 */
import path from "node:path";
import { describe, expect, it, vi } from "vitest";

// What Node throws when a native module was compiled for another version (its real wording).
const dlopen = Object.assign(
  new Error(
    "The module '/srv/qorgau/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).",
  ),
  { code: "ERR_DLOPEN_FAILED" },
);

vi.mock("better-sqlite3", () => ({
  default: class {
    constructor() {
      throw dlopen;
    }
  },
}));

const { acquireLock } = await import("../../src/db/lock.ts");
const { prepareDatabaseFile } = await import("../../src/db/open.ts");
const { tempDir } = await import("../support/harness.ts");

describe("a native module built for another Node", () => {
  it("is named as such, with the command that rebuilds it, at the lock and at the database", () => {
    const file = path.join(tempDir(), "qorgau.db");
    for (const start of [() => acquireLock(file), () => prepareDatabaseFile(file, Buffer.alloc(32, 1))]) {
      let message = "";
      try {
        start();
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain("better-sqlite3 was built for another version of Node (module version 115)");
      expect(message).toContain("npm rebuild better-sqlite3");
      expect(message).not.toMatch(/cannot (open|create)|write access/);
    }
  });
});
