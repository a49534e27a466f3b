// Output bags a user can keep: chunk compression, --topics, the camera and /tf passed through,
// offered QoS per channel (label_info latched), and the output size in the summary.

import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { parse } from "yaml";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { resolveParameters } from "../src/config/parameters.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { header } from "../src/messages/outputs.js";
import type { TFMessage } from "../src/messages/types.js";
import { replay } from "../src/replay/replay.js";
import { formatSummary } from "../src/replay/summary.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { decompressHandlers } from "../src/transport/mcap/decompressHandlers.js";
import { FileReadable } from "../src/transport/mcap/fileReadable.js";
import { IMAGE_TOPIC, INFO_TOPIC, cameraInfo, readOutputBag, rgb8, stampAt, tempDir } from "./support/cameraBag.js";

const W = 32;
const H = 24;
let dir: string;
let input: string;
let model: string;

function tf(sec: number, child: string): TFMessage {
  return {
    transforms: [
      {
        header: header({ sec, nanosec: 0 }, "base_link"),
        child_frame_id: child,
        transform: { translation: { x: 0.5, y: 0, z: 1.25 }, rotation: { x: -0.5, y: 0.5, z: -0.5, w: 0.5 } },
      },
    ],
  };
}

beforeAll(async () => {
  dir = await tempDir("depthseg-outputs-");
  model = await writeAnalyticBundle(join(dir, "model"));
  input = join(dir, "in.mcap");
  const writer = await BagWriter.create(input);
  const calibration = pinholeCalibration(W, H, 30, 30, 15.5, 11.5);
  await writer.write("/tf_static", "tf2_msgs/msg/TFMessage", 99_000_000_000n, tf(99, "cam_optical"));
  for (let i = 0; i < 4; i++) {
    const stamp = stampAt(i);
    const logTime = BigInt(stamp.sec) * 1_000_000_000n + BigInt(stamp.nanosec);
    const data = Uint8Array.from({ length: W * H * 3 }, (_, k) => (k * 7 + i) % 256);
    await writer.write(IMAGE_TOPIC, "sensor_msgs/msg/Image", logTime, rgb8(stamp, { width: W, height: H, data }));
    await writer.write(INFO_TOPIC, "sensor_msgs/msg/CameraInfo", logTime, cameraInfo(stamp, calibration));
    await writer.write("/tf", "tf2_msgs/msg/TFMessage", logTime, tf(stamp.sec, "base_link_moving"));
  }
  await writer.close();
});
afterEach(() => vi.restoreAllMocks());

const params = () => resolveParameters({ model, execution_providers: ["cpu"] });
const quiet = { log: () => {}, showProgress: false, realtime: false } as const;

async function channels(path: string): Promise<{ compression: string[]; qos: Map<string, string | undefined> }> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(handle, size), decompressHandlers: decompressHandlers() });
    return {
      compression: [...new Set(reader.chunkIndexes.map((c) => c.compression))],
      qos: new Map([...reader.channelsById.values()].map((c) => [c.topic, c.metadata.get("offered_qos_profiles")])),
    };
  } finally {
    await handle.close();
  }
}

describe("replay output bags", () => {
  it("by default: zstd chunks, every output, the camera and /tf + /tf_static passed through as recorded", async () => {
    const output = join(dir, "all.mcap");
    const summary = await replay({ input, output, params: params(), ...quiet });
    const bag = await readOutputBag(output);
    expect([...bag.keys()].sort()).toEqual(
      [
        "/cam/camera_info", "/cam/image_raw", "/tf", "/tf_static",
        ...["depth/image", "depth/camera_info", "depth/colorized", "depth/confidence", "points", "segmentation/labels", "segmentation/colorized", "segmentation/label_info", "status"].map((t) => `/depthseg/${t}`),
      ].sort(),
    );
    expect(bag.get(IMAGE_TOPIC)).toHaveLength(4);
    expect(bag.get("/tf")).toHaveLength(4);
    expect((bag.get("/tf_static")![0] as TFMessage).transforms[0]!.child_frame_id).toBe("cam_optical");
    // The camera image is byte for byte the input's.
    const inputBag = await readOutputBag(input);
    expect(bag.get(IMAGE_TOPIC)).toEqual(inputBag.get(IMAGE_TOPIC));

    const { compression, qos } = await channels(output);
    expect(compression).toEqual(["zstd"]);
    const profile = (topic: string) => (parse(qos.get(topic)!) as Record<string, number>[])[0]!;
    expect(profile("/depthseg/segmentation/label_info")).toMatchObject({ reliability: 1, durability: 1, history: 1, depth: 1 }); // transient local
    expect(profile("/depthseg/points")).toMatchObject({ reliability: 1, durability: 2 }); // volatile
    expect(profile("/tf_static")).toMatchObject({ durability: 1 });
    expect(profile("/tf")).toMatchObject({ durability: 2, depth: 100 });
    expect(qos.get(IMAGE_TOPIC)).toBe(""); // the camera driver's QoS is not known

    const bytes = (await stat(output)).size;
    expect(summary.outputBytes).toBe(bytes);
    expect(formatSummary(summary)).toContain(`\n  output     ${(bytes / 1e6).toFixed(2)} MB (zstd, ${(bytes / 4 / 1e6).toFixed(2)} MB per frame)\n`);
  });

  it("--compression lz4 and none; zstd and lz4 are smaller than none", async () => {
    const sizes: Record<string, number> = {};
    for (const compression of ["lz4", "none"] as const) {
      const output = join(dir, `${compression}.mcap`);
      sizes[compression] = (await replay({ input, output, params: params(), ...quiet, compression })).outputBytes;
      expect((await channels(output)).compression).toEqual([compression === "none" ? "" : compression]);
    }
    sizes["zstd"] = (await stat(join(dir, "all.mcap"))).size;
    expect(sizes["zstd"]!).toBeLessThan(sizes["none"]!);
    expect(sizes["lz4"]!).toBeLessThan(sizes["none"]!);
  });

  it("--topics writes only what it names", async () => {
    const output = join(dir, "some.mcap");
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const code = await main(["replay", input, "--out", output, "--model", model, "--quiet", "--topics", "depth/image,segmentation/label_info,camera"]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const bag = await readOutputBag(output);
    expect([...bag.keys()].sort()).toEqual(["/cam/camera_info", "/cam/image_raw", "/depthseg/depth/image", "/depthseg/segmentation/label_info"]);
    expect(bag.get("/depthseg/depth/image")).toHaveLength(4);
  });

  it("--topics with an unknown name, or a bad --compression, is a usage error naming the choices", async () => {
    let stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    expect(await main(["replay", input, "--out", join(dir, "x.mcap"), "--topics", "depth/image,pointz"])).toBe(2);
    expect(stderr).toMatch(/--topics: unknown topic "pointz" \(choices: depth\/image, .*points.*, camera, tf\)/);
    expect(await main(["replay", input, "--out", join(dir, "x.mcap"), "--compression", "gzip"])).toBe(2);
    expect(stderr).toMatch(/--compression must be one of zstd, lz4, none, got "gzip"/);
  });
});
