// What every `depthseg <command>` module shares: the usage error, option helpers, the version,
// and the Ctrl-C/SIGTERM handling of long runs.

import { constants as osConstants } from "node:os";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../paths.js";

/** A wrong command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** One `depthseg <name>` subcommand: its usage text and its entry point (resolves to the exit code). */
export interface Command {
  readonly name: string;
  /** One line (or two) for the overview `depthseg --help` prints. */
  readonly synopsis: string;
  /** What `depthseg <name> --help` prints. */
  readonly usage: string;
  readonly run: (args: readonly string[]) => Promise<number>;
}

/** parseArgs' errors ("Unknown option …") as usage errors. */
export function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function numberOption(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return number;
}

/** --ignore-index (eval, fit-head): label id not scored; default 255 (the usual "void" of 8-bit label maps). */
export const DEFAULT_IGNORE_INDEX = 255;

/** "none" or -1 ignores nothing. */
export function ignoreIndexOption(value: string | undefined): number | undefined {
  if (value === undefined) return DEFAULT_IGNORE_INDEX;
  if (value === "none" || value === "-1") return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw new UsageError(`--ignore-index must be an integer in 0..65535 or "none", got "${value}"`);
  }
  return number;
}

export async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/** 128 + the signal's number, as a shell reports a process ended by it (130 for SIGINT). */
export function signalExitCode(signal: string): number {
  return 128 + (osConstants.signals[signal as NodeJS.Signals] ?? 0);
}

/** Where SIGINT/SIGTERM come from: the process, or a test's emitter. */
export type SignalSource = Pick<NodeJS.EventEmitter, "on" | "off">;

/**
 * SIGINT/SIGTERM handlers: the first signal calls `stop`, a second one `now` (for a run stuck
 * finishing a frame). Returns a function that removes them.
 */
export function onStopSignals(
  signals: SignalSource,
  stop: (signal: NodeJS.Signals) => void,
  now: (signal: NodeJS.Signals) => void,
): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) now(signal);
    else stop(signal);
  };
  signals.on("SIGINT", onSignal);
  signals.on("SIGTERM", onSignal);
  return () => {
    signals.off("SIGINT", onSignal);
    signals.off("SIGTERM", onSignal);
  };
}
