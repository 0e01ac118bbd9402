/**
 * better-sqlite3 is a native module, compiled for one version of Node at install. After a Node
 * upgrade without a rebuild it fails to load at the first `new Database()`, and the failure looks
 * like any file error; the operator is told what it is and the one command that mends it.
 */
export function nativeModuleProblem(err: unknown): string | null {
  const e = err as { code?: string; message?: string };
  const message = typeof e?.message === "string" ? e.message : "";
  if (
    e?.code !== "ERR_DLOPEN_FAILED" &&
    !/NODE_MODULE_VERSION|compiled against a different Node\.js version|better_sqlite3\.node/.test(message)
  )
    return null;
  const built = /using\s+NODE_MODULE_VERSION\s+(\d+)/.exec(message)?.[1];
  return (
    `better-sqlite3 was built for ${built ? `another version of Node (module version ${built})` : "another version of Node or another system"}, not for Node ${process.versions.node} ` +
    `(module version ${process.versions.modules}); run  npm rebuild better-sqlite3  in the project folder (it compiles SQLite for a few minutes), then start again`
  );
}
