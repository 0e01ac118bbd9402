/**
 * Named places where the kill harness may stop the process dead (SIGKILL),
 * to prove nothing is lost (issue 5, R1, R5–R7, S2). Active only when the
 * test build sets QORGAU_CRASH_AT; a production process never has it.
 */
export type CrashPoint =
  | "after_commit_before_confirm"
  | "mid_exit"
  | "mid_outbox"
  | "after_draft_step"
  // key:rotate, in its order: the rotation recorded, the new key saved, inside the re-seal, after its commit.
  | "rotate_marked"
  | "rotate_key_saved"
  | "rotate_mid"
  | "rotate_committed";

const wanted = process.env.QORGAU_CRASH_AT;

export function crashPoint(name: CrashPoint): void {
  if (wanted === name) process.kill(process.pid, "SIGKILL");
}
