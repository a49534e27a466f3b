// Leaving the process at once, on a second Ctrl-C, without aborting it.

/**
 * Ends the process the way the signal's default action does (status 128 + the signal's number:
 * 130 for SIGINT, 143 for SIGTERM). process.exit() is not safe here: it tears down worker
 * threads, and tearing down the inference worker while session.run executes makes
 * onnxruntime-node throw a C++ Napi::Error into the terminating isolate, which aborts the whole
 * process ("terminate called after throwing an instance of 'Napi::Error'", status 134).
 */
export function exitBySignal(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}
