// Replay edge cases of pairing and scheduling: offline runs must process every pairable frame,
// whatever order the bag delivers images and CameraInfo in.

import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { resolveParameters } from "../src/config/parameters.js";
import { replay } from "../src/replay/replay.js";
import { FatalError } from "../src/errors.js";
import { InferenceWorker } from "../src/inference/inferenceWorker.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { stampToNanoseconds, type RgbImage, type Stamp } from "../src/frame.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { FileWritable } from "../src/transport/mcap/fileWritable.js";
import { IMAGE_TOPIC, INFO_TOPIC, cameraInfo, readOutputBag, rgb8, stampAt, tempDir, typed } from "./support/cameraBag.js";

const W = 8;
const H = 6;
const calibration = pinholeCalibration(W, H, 10, 10, 3.5, 2.5);

function solid(red: number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) data[i * 3] = red;
  return { width: W, height: H, data };
}

interface Entry {
  readonly kind: "image" | "info";
  readonly stamp: Stamp;
  readonly logTime: bigint;
}

async function writeBag(path: string, entries: readonly Entry[]): Promise<string> {
  const writer = await BagWriter.create(path);
  for (const e of entries) {
    if (e.kind === "image") await writer.write(IMAGE_TOPIC, "sensor_msgs/msg/Image", e.logTime, rgb8(e.stamp, solid(100)));
    else await writer.write(INFO_TOPIC, "sensor_msgs/msg/CameraInfo", e.logTime, cameraInfo(e.stamp, calibration));
  }
  await writer.close();
  return path;
}

describe("offline replay scheduling", () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = await tempDir();
    bundle = await writeAnalyticBundle(join(dir, "bundle"), { size: [H, W] });
  });

  for (const maxInFlight of [1, 2]) {
    it(`drops nothing when one CameraInfo pairs several waiting images (max_in_flight ${maxInFlight})`, async () => {
      // Images at 10 Hz, CameraInfo at 1 Hz, sync_slop 0.5 s: images 0.6..0.9 s wait for the
      // info at 1.0 s, which then pairs all four at once.
      const entries: Entry[] = [];
      for (let i = 0; i <= 10; i++) {
        const stamp = stampAt(i);
        if (i % 10 === 0) entries.push({ kind: "info", stamp, logTime: stampToNanoseconds(stamp) });
        entries.push({ kind: "image", stamp, logTime: stampToNanoseconds(stamp) + 1n });
      }
      const input = await writeBag(join(dir, `sparse-info-${maxInFlight}.mcap`), entries);
      const output = join(dir, `sparse-info-${maxInFlight}.out.mcap`);
      const summary = await replay({
        input,
        output,
        params: resolveParameters({ model: bundle, execution_providers: ["cpu"], sync_slop: 0.5, max_in_flight: maxInFlight }),
        realtime: false,
        log: () => {},
        showProgress: false,
      });
      expect(summary.stats).toMatchObject({ read: 11, processed: 11, dropped: 0, failed: 0 });
      const depth = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image");
      expect(depth.map((d) => stampToNanoseconds(d.header.stamp)).sort()).toEqual(
        Array.from({ length: 11 }, (_, i) => stampToNanoseconds(stampAt(i))),
      );
    });
  }

  it("drops nothing when CameraInfo messages arrive in a burst after their images", async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 5; i++) entries.push({ kind: "image", stamp: stampAt(i), logTime: stampToNanoseconds(stampAt(i)) });
    for (let i = 0; i < 5; i++) entries.push({ kind: "info", stamp: stampAt(i), logTime: stampToNanoseconds(stampAt(10 + i)) });
    const input = await writeBag(join(dir, "burst.mcap"), entries);
    const summary = await replay({
      input,
      output: join(dir, "burst.out.mcap"),
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"] }),
      realtime: false,
      log: () => {},
      showProgress: false,
    });
    expect(summary.stats).toMatchObject({ read: 5, processed: 5, dropped: 0, failed: 0 });
  });
});

describe("replay when the output cannot be written", () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = await tempDir();
    bundle = await writeAnalyticBundle(join(dir, "bundle"), { size: [H, W] });
  });
  afterEach(() => vi.restoreAllMocks());

  it("stops at the first failed write with a FatalError naming the output, and closes the worker", async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 20; i++) {
      const logTime = stampToNanoseconds(stampAt(i));
      entries.push({ kind: "image", stamp: stampAt(i), logTime }, { kind: "info", stamp: stampAt(i), logTime });
    }
    const input = await writeBag(join(dir, "full.mcap"), entries);
    const output = join(dir, "full.out.mcap");
    // The disk fills up during the third frame.
    const writeRaw = BagWriter.prototype.writeRaw;
    let writes = 0;
    vi.spyOn(BagWriter.prototype, "writeRaw").mockImplementation(function (this: BagWriter, ...args) {
      if (args[0].startsWith("/depthseg/") && ++writes > 15) return Promise.reject(new Error("ENOSPC: no space left on device, write"));
      return writeRaw.apply(this, args);
    });
    const close = vi.spyOn(InferenceWorker.prototype, "close");
    const log: string[] = [];
    const run = replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"] }),
      realtime: false,
      log: (line) => log.push(line),
      showProgress: false,
    });
    await expect(run).rejects.toThrow(FatalError);
    await expect(run).rejects.toThrow(/cannot write .*full\.out\.mcap.*ENOSPC/);
    expect(close).toHaveBeenCalled();
    // Not one failed frame per remaining image: the run ended at the failure.
    expect(log.filter((line) => line.includes("ENOSPC")).length).toBeLessThanOrEqual(1);
  });

  it("reports a write that fails while the output is closed as a FatalError, not a crash", async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 3; i++) {
      const logTime = stampToNanoseconds(stampAt(i));
      entries.push({ kind: "image", stamp: stampAt(i), logTime }, { kind: "info", stamp: stampAt(i), logTime });
    }
    const input = await writeBag(join(dir, "late.mcap"), entries);
    const output = join(dir, "late.out.mcap");
    // Small frames fit one chunk: the first write to disk after the header is at close.
    const realWrite = FileWritable.prototype.writeAt;
    let calls = 0;
    vi.spyOn(FileWritable.prototype, "writeAt").mockImplementation(function (this: FileWritable, parts, position) {
      if (++calls > 1) return Promise.reject(new Error("ENOSPC: no space left on device, write"));
      return realWrite.call(this, parts, position);
    });
    const run = replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"] }),
      realtime: false,
      log: () => {},
      showProgress: false,
    });
    await expect(run).rejects.toThrow(FatalError);
    await expect(run).rejects.toThrow(/cannot write .*late\.out\.mcap.*ENOSPC/);
  });
});
