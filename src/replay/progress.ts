// Progress on a terminal: frames done/total, fps, ETA. Silent when stderr is not a TTY (CI, pipes).

import { SingleBar } from "cli-progress";

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function createProgress(total: number | undefined, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream,
    format: "replay |{bar}| {value}/{total} frames | {fps} fps | ETA {eta_formatted}",
    barCompleteChar: "#",
    barIncompleteChar: "-",
    hideCursor: true,
    etaBuffer: 30,
    fps: 5,
  });
  const start = performance.now();
  bar.start(total ?? 0, 0, { fps: "0.0" });
  return {
    update: (done) => {
      const seconds = (performance.now() - start) / 1000;
      if (total === undefined) bar.setTotal(done);
      bar.update(done, { fps: (done / Math.max(seconds, 1e-3)).toFixed(1) });
    },
    stop: () => bar.stop(),
  };
}
