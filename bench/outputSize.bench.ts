// Output bag size per frame and write speed of `depthseg replay` for each chunk compression, on
// a raw rgb8 848×480 camera (a RealSense colour stream's size) of the sample's synthetic room.
//
//   npx tsx bench/outputSize.bench.ts [--frames 10] [--width 848] [--height 480]

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveParameters } from "../src/config/parameters.js";
import { calibrationToCameraInfo } from "../src/messages/camera.js";
import { header } from "../src/messages/outputs.js";
import { percentile } from "../src/pipeline/stats.js";
import { replay } from "../src/replay/replay.js";
import { syntheticCalibration } from "../src/synthetic/frames.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { CHUNK_COMPRESSIONS } from "../src/transport/mcap/chunkCompression.js";
import { drawScene } from "../tools/make-sample-bag.js";

const { values } = parseArgs({
  options: { frames: { type: "string", default: "10" }, width: { type: "string", default: "848" }, height: { type: "string", default: "480" } },
});
const frames = Number(values.frames);
const width = Number(values.width);
const height = Number(values.height);

const dir = await mkdtemp(join(tmpdir(), "depthseg-outsize-"));
try {
  const input = join(dir, "in.mcap");
  const writer = await BagWriter.create(input);
  const calibration = syntheticCalibration(width, height);
  for (let i = 0; i < frames; i++) {
    const stamp = { sec: 100 + i, nanosec: 0 };
    const logTime = BigInt(stamp.sec) * 1_000_000_000n;
    const hdr = header(stamp, "camera_color_optical_frame");
    const image = drawScene(i, width, height);
    await writer.write("/camera/color/image_raw", "sensor_msgs/msg/Image", logTime, {
      header: hdr, height, width, encoding: "rgb8", is_bigendian: 0, step: width * 3, data: image.data,
    });
    await writer.write("/camera/color/camera_info", "sensor_msgs/msg/CameraInfo", logTime, calibrationToCameraInfo(hdr, calibration));
  }
  await writer.close();
  const params = resolveParameters({ execution_providers: ["cpu"] });
  console.log(`${frames} frames of ${width}x${height} rgb8, all outputs + the camera passed through`);
  console.log("compression  MB/frame  write ms/frame (p50)  write MB/s");
  for (const compression of CHUNK_COMPRESSIONS) {
    const summary = await replay({
      input, output: join(dir, `out-${compression}.mcap`), params, realtime: false, showProgress: false,
      log: () => {}, compression,
    });
    const sorted = Float64Array.from(summary.bagWriteMs).sort();
    const total = summary.bagWriteMs.reduce((a, b) => a + b, 0);
    const perFrame = summary.outputBytes / summary.stats.processed;
    console.log(
      `${compression.padEnd(11)}  ${(perFrame / 1e6).toFixed(2).padStart(8)}  ${percentile(sorted, 0.5).toFixed(1).padStart(20)}` +
        `  ${(summary.outputBytes / 1e6 / (total / 1000)).toFixed(0).padStart(10)}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
