/**
 * Running a command on a node: the appliance host itself or a server reached over SSH. Every
 * command is an argv array; nothing from attack data is ever interpreted by a shell on our side,
 * and the SSH runner quotes each argument so the remote shell sees exactly these words.
 */

export interface CommandResult {
  /** The process's exit code; a process killed by a signal reports 128 + the signal number. */
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  /** Deadline for this command; the runner's default applies when absent. */
  timeoutMs?: number;
  /** Written to the command's standard input, then closed. */
  stdin?: string;
}

export interface CommandRunner {
  /** Where commands run, for audit entries and errors: "local" or "ssh deploy@203.0.113.7:22". */
  readonly where: string;
  /**
   * Runs argv[0] with the remaining words as its arguments (after the configured sudo prefix).
   * Resolves with the exit code, also a non-zero one: whether that is a failure is the caller's
   * call. Rejects with a FloodgateError only when the command could not be run at all (binary
   * missing, SSH unreachable, host key mismatch, timeout).
   */
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Closes kept connections; the runner may be used again afterwards (it reconnects). */
  close(): Promise<void>;
  /** Called after a kept connection was lost and re-established (SSH runners). */
  onReconnect?(listener: () => void): void;
}
