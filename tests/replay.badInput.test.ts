// Every bad input the issue names: a clear error naming topic, stamp and problem; the run goes on
// with the next frame; the summary counts it by reason; nothing good is lost.

import { join } from "node:path";
import { readFile, truncate, writeFile, stat } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { writeAnalyticBundle } from "./support/analyticBundle.js";
import { resolveParameters } from "../src/config/parameters.js";
import { replay } from "../src/replay/replay.js";
import { main } from "../src/cli.js";
import { pinholeCalibration } from "../src/geometry/pinholeCalibration.js";
import { encodeJpeg, encodePng } from "../src/imaging/decode.js";
import { encodeMessage } from "../src/messages/cdr.js";
import { formatSummary } from "../src/replay/summary.js";
import { BagWriter } from "../src/transport/mcap/bagWriter.js";
import { ANALYTIC_LABELS_YAML } from "./support/analyticBundle.js";
import { nanDepthModel, writeBundleWith } from "./support/badModels.js";
import { header } from "../src/messages/outputs.js";
import { formatStamp, type RgbImage } from "../src/frame.js";
import {
  COMPRESSED_TOPIC,
  FRAME_ID,
  IMAGE_TOPIC,
  INFO_TOPIC,
  cameraInfo,
  readOutputBag,
  rgb8,
  stampAt,
  tempDir,
  typed,
  writeCameraBag,
  type BagFrame,
} from "./support/cameraBag.js";

const W = 8;
const H = 6;
const calibration = pinholeCalibration(W, H, 10, 10, 3.5, 2.5);

function solid(red: number, width = W, height = H): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data[i * 3] = red;
  return { width, height, data };
}

function goodFrame(index: number, red = 100): BagFrame {
  const stamp = stampAt(index);
  return { stamp, image: rgb8(stamp, solid(red)), info: cameraInfo(stamp, calibration) };
}

describe("bad input during replay", () => {
  let dir: string;
  let bundle: string;
  const run = (input: string, output: string, extra: Record<string, unknown> = {}) => {
    const log: string[] = [];
    const promise = replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"], ...extra }),
      realtime: false,
      log: (line) => log.push(line),
      showProgress: false,
    });
    return promise.then((summary) => {
      // Every image read ends as exactly one of these, whatever went wrong with it.
      const { read, processed, dropped, failed } = summary.stats;
      expect(read, "read = processed + dropped + failed").toBe(processed + dropped + failed);
      return { summary, log };
    });
  };

  beforeAll(async () => {
    dir = await tempDir();
    bundle = await writeAnalyticBundle(join(dir, "bundle"), { size: [H, W] });
  });

  it("reports each broken raw image or CameraInfo and processes the good frames around them", async () => {
    const frames: BagFrame[] = [goodFrame(0)];
    const s = (i: number) => stampAt(i);
    const info = (i: number) => cameraInfo(s(i), calibration);
    // 1: step × height differs from the data length.
    frames.push({ stamp: s(1), image: { ...rgb8(s(1), solid(50)), step: W * 3 + 2 }, info: info(1) });
    // 2: unknown encoding.
    frames.push({ stamp: s(2), image: { ...rgb8(s(2), solid(50)), encoding: "yuv422" }, info: info(2) });
    // 3: zero-size image.
    frames.push({ stamp: s(3), image: { ...rgb8(s(3), solid(50)), width: 0, height: 0, step: 0, data: new Uint8Array(0) }, info: info(3) });
    // 4: CameraInfo with zero focal length (K and P).
    frames.push({
      stamp: s(4),
      image: rgb8(s(4), solid(50)),
      info: cameraInfo(s(4), { ...calibration, k: [0, 0, 3.5, 0, 0, 2.5, 0, 0, 1], p: new Array(12).fill(0) }),
    });
    // 5: CameraInfo of another size.
    frames.push({ stamp: s(5), image: rgb8(s(5), solid(50)), info: cameraInfo(s(5), { ...calibration, width: 16, height: 12 }) });
    // 6: no CameraInfo at all.
    frames.push({ stamp: s(6), image: rgb8(s(6), solid(50)) });
    frames.push(goodFrame(7, 200));
    const input = await writeCameraBag(join(dir, "bad-raw.mcap"), frames);
    const output = join(dir, "bad-raw.out.mcap");
    const { summary, log } = await run(input, output);

    expect(summary.stats).toMatchObject({ read: 8, processed: 2, dropped: 0, failed: 6 });
    expect(summary.stats.failedByReason).toEqual({
      image_size_mismatch: 1,
      unknown_encoding: 1,
      empty_image: 1,
      invalid_camera_info: 1,
      camera_info_size_mismatch: 1,
      no_camera_info: 1,
    });
    const expectLogged = (index: number, pattern: RegExp) => {
      const line = log.find((l) => l.includes(`stamp ${formatStamp(s(index))}`));
      expect(line, `log line for frame ${index}`).toBeDefined();
      expect(line).toContain(IMAGE_TOPIC);
      expect(line).toMatch(pattern);
    };
    expectLogged(1, /image_size_mismatch: .*step/);
    expectLogged(2, /unknown_encoding: .*yuv422/);
    expectLogged(3, /empty_image/);
    expectLogged(4, /invalid_camera_info: .*f[xy]/);
    expectLogged(5, /camera_info_size_mismatch: .*16.*12/);
    expectLogged(6, /no_camera_info/);

    // The two good frames are in the output with their own stamps and exact metres.
    const depth = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth.map((d) => d.header)).toEqual([
      { stamp: s(0), frame_id: FRAME_ID },
      { stamp: s(7), frame_id: FRAME_ID },
    ]);
    expect(new Float32Array(depth[1]!.data.slice().buffer)[0]).toBeCloseTo(0.5 + (10 * 200) / 255, 5);
  });

  it("reports a corrupt JPEG and decodes the next one", async () => {
    const s = (i: number) => stampAt(i);
    const jpeg = encodeJpeg(solid(120), 95);
    const png = encodePng(solid(120));
    // A PNG that declares 4000x3000 for an 8x6 CameraInfo: refused before decoding its (tiny) data.
    const bigPng = png.slice();
    new DataView(bigPng.buffer).setUint32(16, 4000);
    new DataView(bigPng.buffer).setUint32(20, 3000);
    new DataView(bigPng.buffer).setUint32(29, crc32(bigPng.subarray(12, 29)) >>> 0);
    const compressed = (i: number, format: string, data: Uint8Array): BagFrame => ({
      stamp: s(i),
      image: { header: header(s(i), FRAME_ID), format, data },
      info: cameraInfo(s(i), calibration),
    });
    const frames: BagFrame[] = [
      compressed(0, "jpeg", jpeg.slice(0, 40)),
      compressed(1, "png", new Uint8Array([1, 2, 3, 4, 5])),
      compressed(2, "jpeg", jpeg),
      // Cut at 60 %: OpenCV alone decodes this to a full-size image, grey where data is missing.
      compressed(3, "jpeg", jpeg.slice(0, Math.floor(jpeg.length * 0.6))),
      compressed(4, "png", png.slice(0, png.length - 12)),
      compressed(5, "png", bigPng),
      compressed(6, "png", png),
    ];
    const input = await writeCameraBag(join(dir, "bad-jpeg.mcap"), frames);
    const output = join(dir, "bad-jpeg.out.mcap");
    const { summary, log } = await run(input, output);
    expect(summary.imageTopic).toBe(COMPRESSED_TOPIC);
    expect(summary.stats).toMatchObject({ read: 7, processed: 2, failed: 5 });
    expect(summary.stats.failedByReason).toEqual({ corrupt_compressed_image: 4, camera_info_size_mismatch: 1 });
    expect(log[0]).toMatch(new RegExp(`${COMPRESSED_TOPIC} @ stamp ${formatStamp(s(0))}: corrupt_compressed_image`));
    expect(log.find((l) => l.includes(`stamp ${formatStamp(s(3))}`))).toMatch(/corrupt_compressed_image: JPEG truncated/);
    expect(log.find((l) => l.includes(`stamp ${formatStamp(s(4))}`))).toMatch(/corrupt_compressed_image: PNG truncated: no IEND/);
    expect(log.find((l) => l.includes(`stamp ${formatStamp(s(5))}`))).toMatch(/camera_info_size_mismatch: camera_info is 8x6 but the image is 4000x3000/);
    const depth = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth.map((d) => d.header.stamp)).toEqual([s(2), s(6)]);
  });

  it("reports an undecodable message by its MCAP log time; an image counts as read and failed", async () => {
    const s = (i: number) => stampAt(i);
    const path = join(dir, "bad-cdr.mcap");
    const writer = await BagWriter.create(path);
    const ns = (i: number) => BigInt(s(i).sec) * 1_000_000_000n + BigInt(s(i).nanosec);
    const write = async (i: number, imageBytes: Uint8Array, infoBytes: Uint8Array) => {
      await writer.writeRaw(IMAGE_TOPIC, "sensor_msgs/msg/Image", ns(i), imageBytes);
      await writer.writeRaw(INFO_TOPIC, "sensor_msgs/msg/CameraInfo", ns(i), infoBytes);
    };
    const frame = (i: number) => goodFrame(i);
    const imageBytes = (i: number) => encodeMessage("sensor_msgs/msg/Image", frame(i).image as never);
    const infoBytes = (i: number) => encodeMessage("sensor_msgs/msg/CameraInfo", frame(i).info!);
    await write(0, imageBytes(0), infoBytes(0));
    await write(1, imageBytes(1).subarray(0, 30), infoBytes(1)); // the image cut inside its pixels
    await write(2, imageBytes(2), infoBytes(2).subarray(0, 50)); // its CameraInfo cut
    await write(3, imageBytes(3), infoBytes(3));
    await writer.close();
    const { summary, log } = await run(path, join(dir, "bad-cdr.out.mcap"), { image_topic: IMAGE_TOPIC });
    expect(summary.stats).toMatchObject({ read: 4, processed: 2, dropped: 0, failed: 2, cameraInfoRejected: 1 });
    expect(summary.stats.failedByReason).toEqual({ bad_message: 1, no_camera_info: 1 });
    expect(log.find((l) => l.startsWith(`${IMAGE_TOPIC} @ stamp ${formatStamp(s(1))}: bad_message: cannot decode sensor_msgs/msg/Image`))).toMatch(
      /\(stamp unreadable; this is the MCAP log time\)/,
    );
    expect(log.some((l) => l.startsWith(`${INFO_TOPIC} @ stamp ${formatStamp(s(2))}: bad_message: cannot decode sensor_msgs/msg/CameraInfo`))).toBe(true);
    expect(formatSummary(summary)).toMatch(/frames {5}read 4, processed 2, dropped 0, failed 2 /);
    expect(formatSummary(summary)).toMatch(/camera_info rejected 1/);
  });

  it("refuses a stamp with nanosec ≥ 1e9 (invalid_stamp) instead of writing stamp 100.1500000000", async () => {
    const bad = { sec: 100, nanosec: 1_500_000_000 };
    const good = { sec: 101, nanosec: 500_000_000 };
    const frames: BagFrame[] = [
      { stamp: bad, image: rgb8(bad, solid(50)), info: cameraInfo(bad, calibration) },
      { stamp: good, image: rgb8(good, solid(60)), info: cameraInfo(good, calibration) },
    ];
    const output = join(dir, "stamp.out.mcap");
    const { summary, log } = await run(await writeCameraBag(join(dir, "stamp.mcap"), frames), output);
    expect(summary.stats).toMatchObject({ read: 2, processed: 1, failed: 1, failedByReason: { invalid_stamp: 1 }, cameraInfoRejected: 1 });
    expect(log).toContain(`${IMAGE_TOPIC}: invalid_stamp: header.stamp has sec 100, nanosec 1500000000: nanosec must be in 0..999999999`);
    expect(log).toContain(`${INFO_TOPIC}: invalid_stamp: header.stamp has sec 100, nanosec 1500000000: nanosec must be in 0..999999999`);
    const depth = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth.map((d) => d.header.stamp)).toEqual([good]);
  });

  it("keeps a UTF-8 frame_id and UTF-8 class names through to the output", async () => {
    const utf8Bundle = await writeBundleWith(
      join(dir, "utf8-bundle"),
      (await import("../tools/onnx/builders.js")).buildAnalyticModel(),
      [H, W],
      ANALYTIC_LABELS_YAML.replace("name: red", "name: rouge_été").replace("name: blue", "name: 青"),
    );
    const s = (i: number) => stampAt(i);
    const frames: BagFrame[] = [0, 1].map((i) => ({
      stamp: s(i),
      image: { ...rgb8(s(i), solid(100)), header: header(s(i), "caméra_optical") },
      info: { ...cameraInfo(s(i), calibration), header: header(s(i), "caméra_optical") },
    }));
    const output = join(dir, "utf8.out.mcap");
    const { summary } = await run(await writeCameraBag(join(dir, "utf8.mcap"), frames), output, { model: utf8Bundle });
    expect(summary.stats).toMatchObject({ read: 2, processed: 2, failed: 0 });
    const out = await readOutputBag(output);
    const depth = typed(out, "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth.map((d) => d.header.frame_id)).toEqual(["caméra_optical", "caméra_optical"]);
    expect(new Float32Array(depth[0]!.data.slice().buffer)[0]).toBeCloseTo(0.5 + (10 * 100) / 255, 5);
    const info = typed(out, "/depthseg/segmentation/label_info", "vision_msgs/msg/LabelInfo")[0]!;
    expect(info.class_map.map((c) => c.class_name)).toEqual(["rouge_été", "green", "青"]);
  });

  it("fails frames whose model depth is mostly NaN (model_output_invalid), warns once and says so in status", async () => {
    const nanBundle = await writeBundleWith(join(dir, "nan-bundle"), nanDepthModel(), [H, W]);
    // depth = sqrt(10·R − 5): NaN for R < 0.5 (128 of 255), 3 m at R = 204 (10·0.8 − 5 = 3, √3 m).
    const halfAndHalf: RgbImage = solid(50);
    for (let y = 0; y < H; y++) for (let x = W / 2; x < W; x++) halfAndHalf.data[(y * W + x) * 3] = 204;
    const s = (i: number) => stampAt(i);
    const frames: BagFrame[] = [
      goodFrame(0, 50), // all NaN
      goodFrame(1, 204), // all valid
      { stamp: s(2), image: rgb8(s(2), halfAndHalf), info: cameraInfo(s(2), calibration) }, // 50 % valid: published
      goodFrame(3, 20), // all NaN
    ];
    const output = join(dir, "nan.out.mcap");
    const { summary, log } = await run(await writeCameraBag(join(dir, "nan.mcap"), frames), output, { model: nanBundle });
    expect(summary.stats).toMatchObject({ read: 4, processed: 2, failed: 2, failedByReason: { model_output_invalid: 2 } });
    expect(log.filter((l) => l.includes("mostly NaN"))).toEqual([
      `${IMAGE_TOPIC}: the model's depth output is mostly NaN, ±Inf or ≤ 0 (0.0 % valid); such frames are not published and count as failed (model_output_invalid)`,
    ]);
    expect(log).toContain(
      `${IMAGE_TOPIC} @ stamp ${formatStamp(s(0))}: model_output_invalid: 100.0 % of the model's depth output is NaN, ±Inf or ≤ 0 (more than 50.0 % fails the frame)`,
    );
    const out = await readOutputBag(output);
    const depth = typed(out, "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth.map((d) => d.header.stamp)).toEqual([s(1), s(2)]);
    expect(new Float32Array(depth[0]!.data.slice().buffer)[0]).toBeCloseTo(Math.sqrt(3), 5);
    const status = typed(out, "/depthseg/status", "depthseg/msg/PerceptionStatus");
    expect(status.map((m) => [m.header.stamp.sec * 10 + Math.round(m.header.stamp.nanosec / 1e8) - 1000, m.depth_valid_fraction, m.frames_processed, m.frames_failed])).toEqual([
      [0, 0, 0n, 1n],
      [1, 1, 1n, 1n],
      [2, 0.5, 2n, 1n],
      [3, 0, 2n, 2n],
    ]);
  });

  it("processes what a truncated bag holds, then says where it broke", async () => {
    const frames = Array.from({ length: 12 }, (_, i) => goodFrame(i, 20 * i));
    // Small chunks, as a long recording has many: the cut falls after several complete ones.
    const input = await writeCameraBag(join(dir, "truncated.mcap"), frames, { chunkSize: 512 });
    const size = (await stat(input)).size;
    await truncate(input, Math.floor(size * 0.6));
    const output = join(dir, "truncated.out.mcap");
    const { summary } = await run(input, output);
    expect(summary.damage).toHaveLength(1);
    expect(summary.damage[0]!.start).toBeGreaterThan(0);
    expect(summary.damage[0]!.end).toBe(Math.floor(size * 0.6));
    expect(summary.damage[0]!.reason).toMatch(/cut off/);
    expect(summary.stats.processed).toBeGreaterThanOrEqual(4);
    expect(summary.stats.processed).toBeLessThan(12);
    // Every processed frame is written, in order, with its own metres.
    const depth = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image");
    expect(depth).toHaveLength(summary.stats.processed);
    depth.forEach((d, i) => {
      expect(d.header.stamp).toEqual(stampAt(i));
      expect(new Float32Array(d.data.slice().buffer)[0]).toBeCloseTo(0.5 + (10 * 20 * i) / 255, 5);
    });
  });

  it("skips a damaged chunk of a complete bag, processes every frame after it, and says which chunk", async () => {
    const frames = Array.from({ length: 12 }, (_, i) => goodFrame(i, 20 * i));
    const input = await writeCameraBag(join(dir, "damaged.mcap"), frames, { chunkSize: 512 });
    const bytes = new Uint8Array(await readFile(input));
    // Damage frame 6's pixels (R=120) inside its chunk; the index and summary stay intact, so
    // the chunk's CRC is what catches it.
    const pixels = Buffer.from(solid(120).data);
    const middle = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(pixels);
    expect(middle).toBeGreaterThan(0);
    for (let i = middle; i < middle + 8; i++) bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(input, bytes);
    const output = join(dir, "damaged.out.mcap");
    const { summary } = await run(input, output);
    expect(summary.damage).toHaveLength(1);
    const [damage] = summary.damage;
    expect(damage!.start).toBeLessThan(middle);
    expect(damage!.end).toBeGreaterThan(middle);
    expect(damage!.reason).toMatch(/CRC/);
    // Only the frames of that chunk are missing (each chunk holds one or two frames here).
    const depth = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image");
    const stamps = depth.map((d) => d.header.stamp);
    expect(stamps).toContainEqual(stampAt(11));
    expect(stamps).not.toContainEqual(stampAt(6));
    expect(summary.stats.processed).toBe(depth.length);
    expect(summary.stats.processed).toBeGreaterThanOrEqual(10);
  });

  it("fails at start when the colour-map range is empty for this model", async () => {
    const input = await writeCameraBag(join(dir, "cmap.mcap"), [goodFrame(0)]);
    // The analytic bundle's max_depth is 11 m: a 12 m lower bound leaves nothing to draw.
    await expect(run(input, join(dir, "cmap.out.mcap"), { "colorize.depth_min": 12 })).rejects.toThrow(
      /colorize.depth_min \(12\) must be below the colour-map maximum \(11, the model's max_depth\)/,
    );
  });

  it("says so when a bag is truncated before any complete message", async () => {
    const input = await writeCameraBag(join(dir, "cut-early.mcap"), [goodFrame(0)]);
    await truncate(input, 200);
    await expect(run(input, join(dir, "cut-early.out.mcap"))).rejects.toThrow(/cut-early\.mcap holds no readable message: bytes \d+-200 \(chunk 1\): the file ends at byte 200, inside this chunk.*cut off/);
  });

  it("pairs by approximate stamp within sync_slop and rejects beyond it", async () => {
    const s = (i: number) => stampAt(i);
    const shifted = (i: number, ms: number) => {
      const ns = s(i).nanosec + ms * 1_000_000;
      return { sec: s(i).sec + Math.floor(ns / 1e9), nanosec: ns % 1e9 };
    };
    const frames: BagFrame[] = [
      { stamp: s(0), image: rgb8(s(0), solid(10)), info: cameraInfo(shifted(0, 3), calibration) },
      { stamp: s(1), image: rgb8(s(1), solid(10)), info: cameraInfo(shifted(1, 30), calibration) },
    ];
    const input = await writeCameraBag(join(dir, "slop.mcap"), frames);
    const exact = await run(input, join(dir, "slop0.out.mcap"));
    expect(exact.summary.stats).toMatchObject({ processed: 0, failed: 2 });
    const approx = await run(input, join(dir, "slop5.out.mcap"), { sync_slop: 0.005 });
    expect(approx.summary.stats).toMatchObject({ processed: 1, failed: 1 });
    expect(approx.log.join("\n")).toMatch(/no_camera_info: no CameraInfo within sync_slop 0.005 s \(nearest is 0.030000 s away\)/);
  });

  it("loses no frame to stamps that go backwards, CameraInfos logged out of stamp order or repeated stamps", async () => {
    // Log time always moves forward (100 ms per frame); the header stamps do not.
    const logAt = (i: number, extraMs = 0) => 300_000_000_000n + BigInt(i) * 100_000_000n + BigInt(extraMs) * 1_000_000n;
    const frame = (stamp: ReturnType<typeof stampAt>, i: number, red = 100): BagFrame => ({
      stamp,
      image: rgb8(stamp, solid(red)),
      info: cameraInfo(stamp, calibration),
      logTime: logAt(i),
    });
    const frames: BagFrame[] = [];
    // 0-19 at 100 s, then the camera clock restarts at 5 s (20-24).
    for (let i = 0; i < 20; i++) frames.push(frame(stampAt(i), i));
    const reset = (i: number) => stampAt(i - 20, 10, 5);
    for (let i = 20; i < 25; i++) frames.push(frame(reset(i), i));
    // 25's CameraInfo is logged after 26's.
    frames.push({ ...frame(reset(25), 25), infoLogTime: logAt(26, 50) });
    frames.push({ ...frame(reset(26), 26), infoLogTime: logAt(26, 10) });
    // 27 is sent twice with the same stamp, once before and once after its CameraInfo.
    frames.push(frame(reset(27), 27));
    frames.push({ stamp: reset(27), image: rgb8(reset(27), solid(120)), logTime: logAt(27, 20) });
    const input = await writeCameraBag(join(dir, "disorder.mcap"), frames);
    const output = join(dir, "disorder.out.mcap");
    const { summary, log } = await run(input, output);

    expect(log.filter((line) => /no_camera_info/.test(line))).toEqual([]);
    expect(summary.stats).toMatchObject({ read: 29, processed: 29, dropped: 0, failed: 0 });
    const stamps = typed(await readOutputBag(output), "/depthseg/depth/image", "sensor_msgs/msg/Image").map((d) =>
      formatStamp(d.header.stamp),
    );
    const expected = [...Array.from({ length: 20 }, (_, i) => stampAt(i)), ...[20, 21, 22, 23, 24, 25, 26, 27, 27].map(reset)];
    expect(stamps.sort()).toEqual(expected.map(formatStamp).sort());
  });

  it("with --realtime, a burst is dropped latest-wins, counted, and the newest frame is processed", async () => {
    // 40 frames 100 µs apart: far faster than inference, so frames must be dropped.
    const frames = Array.from({ length: 40 }, (_, i) => {
      const stamp = stampAt(i, 10_000);
      return { stamp, image: rgb8(stamp, solid(i * 5)), info: cameraInfo(stamp, calibration) };
    });
    const input = await writeCameraBag(join(dir, "burst.mcap"), frames);
    const output = join(dir, "burst.out.mcap");
    const summary = await replay({
      input,
      output,
      params: resolveParameters({ model: bundle, execution_providers: ["cpu"] }),
      realtime: true,
      log: () => {},
      showProgress: false,
    });
    const { stats } = summary;
    expect(stats.read).toBe(40);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.processed + stats.dropped + stats.failed).toBe(40);
    const out = await readOutputBag(output);
    const status = typed(out, "/depthseg/status", "depthseg/msg/PerceptionStatus");
    expect(status).toHaveLength(stats.processed);
    expect(status.at(-1)!.header.stamp).toEqual(stampAt(39, 10_000));
    expect(status.at(-1)!.frames_dropped).toBe(BigInt(stats.dropped));
  });
});

describe("depthseg CLI failures at start", () => {
  let dir: string;
  let stderr: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeCameraBag(join(dir, "in.mcap"), [goodFrame(0)]);
  });
  afterEach(() => vi.restoreAllMocks());
  const cli = async (...args: string[]) => {
    stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    return main(args);
  };

  it("a missing model path exits 1 naming it", async () => {
    const code = await cli("replay", join(dir, "in.mcap"), "--out", join(dir, "o.mcap"), "--model", join(dir, "nope"));
    expect(code).toBe(1);
    expect(stderr).toMatch(/nope/);
  });

  it("a model file that is not ONNX exits 1 saying so", async () => {
    const fake = await writeAnalyticBundle(join(dir, "fake"), { size: [H, W] });
    await writeFile(join(fake, "model.onnx"), "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 99\n");
    const code = await cli("replay", join(dir, "in.mcap"), "--out", join(dir, "o.mcap"), "--model", fake);
    expect(code).toBe(1);
    expect(stderr).toMatch(/not (an )?ONNX|LFS/i);
  });

  it("a bundle whose graph outputs differ from model.yaml exits 1 naming the mismatch", async () => {
    const wrong = await writeAnalyticBundle(join(dir, "wrong"), { size: [H, W] });
    const yaml = (await import("node:fs/promises")).readFile;
    const text = (await yaml(join(wrong, "model.yaml"), "utf8")).replace("name: logits", "name: class_logits");
    await writeFile(join(wrong, "model.yaml"), text);
    const code = await cli("replay", join(dir, "in.mcap"), "--out", join(dir, "o.mcap"), "--model", wrong);
    expect(code).toBe(1);
    expect(stderr).toMatch(/class_logits/);
    expect(stderr).toMatch(/logits/);
  });

  it("an input that is not an MCAP exits 1 naming the file; usage errors exit 2", async () => {
    await writeFile(join(dir, "not.mcap"), "hello");
    expect(await cli("replay", join(dir, "not.mcap"), "--out", join(dir, "o.mcap"), "--model", join(dir, "wrong"))).toBe(1);
    expect(await cli("replay", join(dir, "not.mcap"), "--out", join(dir, "o.mcap"))).toBe(1);
    expect(stderr).toMatch(/^depthseg: .*not\.mcap is not an MCAP file/);
    expect(stderr).not.toMatch(/unexpected error|    at /);
    expect(await cli("replay", join(dir, "in.mcap"), "--out", join(dir, "in.mcap", "x.mcap"))).toBe(1);
    expect(stderr).toMatch(/^depthseg: cannot write .*x\.mcap/m);
    expect(await cli("replay", join(dir, "in.mcap"))).toBe(2);
    expect(stderr).toMatch(/--out/);
  });

  it("run without ROS 2 sourced exits 1 and points to replay", async () => {
    const saved = { a: process.env["AMENT_PREFIX_PATH"], r: process.env["ROS_DISTRO"] };
    delete process.env["AMENT_PREFIX_PATH"];
    delete process.env["ROS_DISTRO"];
    try {
      expect(await cli("run")).toBe(1);
      expect(stderr).toMatch(/ROS 2 is not sourced/);
      expect(stderr).toMatch(/depthseg replay/);
    } finally {
      if (saved.a !== undefined) process.env["AMENT_PREFIX_PATH"] = saved.a;
      if (saved.r !== undefined) process.env["ROS_DISTRO"] = saved.r;
    }
  });
});
