/** `npm run demo` (issue 17): a transcript in the chosen language, with a report and its staff side. */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/paths.ts";

const run = promisify(execFile);
const demo = (lang: string) =>
  run(
    path.join(projectRoot, "node_modules", ".bin", "tsx"),
    [path.join(projectRoot, "scripts", "demo.ts"), "--lang", lang],
    { cwd: projectRoot, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" }, timeout: 60_000 },
  );

describe("npm run demo (issue 17)", () => {
  it("in Kazakh prints Kazakh screens: the welcome, help nearby, quick exit, a report, the staff card and the reply", async () => {
    const { stdout } = await demo("kk");
    expect(stdout).toContain("🤖 Сәлеметсіз бе.");
    expect(stdout).not.toContain("Здравствуйте");
    expect(stdout).toMatch(/only the cover remains/);
    expect(stdout).toContain("Қауіпсіздік"); // the menu, in Kazakh
    expect(stdout).toMatch(/📝 .*өтініші/); // the staff card, in the staff language asked for
    expect(stdout).toContain("Сізге жаңа хабар келді.");
    // Voices and pictures from both channels reach staff (issue 26); WhatsApp's photo without its EXIF.
    expect(stdout).toMatch(/🤖 \[voice note, 42 s\] 🎙 \S+, дауыстық хабар 1\/1/);
    expect(stdout).toMatch(/🤖 \[voice note, 37 s\] 🎙 \S+, дауыстық хабар 1\/1/);
    expect(stdout).toMatch(/🤖 \[photo\] 📷 \S+, фото 1\/1/);
    expect(stdout).toContain("EXIF and GPS: none");
  }, 90_000);

  it("refuses a language it does not have", async () => {
    await expect(demo("en")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("--lang must be one of kk, ky, ru"),
    });
  });
});
