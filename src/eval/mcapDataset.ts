// MCAP dataset: a rosbag2 recording with the camera (Image or CompressedImage + CameraInfo), a
// ground-truth depth Image (32FC1 metres, or 16UC1 millimetres) and optionally a ground-truth
// label Image (mono8 or 16UC1 class ids). Each camera image is paired with the CameraInfo, depth
// (and labels, when there is a label topic) whose header stamps are nearest to its own within
// ±gt slop (--gt-slop, default DEFAULT_GT_SLOP_SEC); the rest are counted and said why.
//
// Topics, when not given: the camera as replay finds it (the one colour camera with a
// CameraInfo); depth = the Image topic whose first message is 32FC1/16UC1/mono16 and whose name
// does not contain "label"; labels = the Image topic whose name contains "label" and whose first
// message is mono8/8UC1/16UC1/mono16 (none: no segmentation ground truth).

import { FatalError, FrameError } from "../errors.js";
import { formatStamp, stampToNanoseconds, type CameraCalibration } from "../frame.js";
import { decodeMessage } from "../messages/cdr.js";
import { cameraInfoToCalibration } from "../messages/camera.js";
import { decodeFrame, type CameraImageMessage } from "../messages/ingest.js";
import type { CameraInfo, CompressedImage, Image } from "../messages/types.js";
import { CAMERA_INFO_TYPE, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE, selectCameraTopics, type CameraTopics } from "../replay/cameraTopics.js";
import { formatDamage, openBag, type BagReader } from "../transport/mcap/bagReader.js";
import { DEFAULT_GT_SLOP_SEC, type DatasetOptions, type EvalDataset, type EvalSample } from "./datasets.js";
import { checkGroundTruthSize, DEPTH_ENCODINGS, depthFromImage, LABEL_ENCODINGS, labelsFromImage } from "./groundTruth.js";

interface Topics extends CameraTopics {
  readonly depthTopic: string;
  readonly labelsTopic: string | undefined;
}

export async function openMcapDataset(path: string, options: DatasetOptions): Promise<EvalDataset> {
  let bag: BagReader;
  try {
    bag = await openBag(path);
  } catch (error) {
    throw new FatalError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    if (bag.topics.length === 0) {
      throw new FatalError(`${path} has no messages${bag.damage.length > 0 ? ` (${bag.damage.map(formatDamage).join("; ")})` : ""}`);
    }
    const topics = await chooseTopics(bag, options);
    const imageCount = bag.topics.find((t) => t.topic === topics.imageTopic)?.messageCount;
    return {
      kind: "mcap",
      path,
      hasDepth: true,
      depthScale: null,
      hasLabels: topics.labelsTopic !== undefined,
      describe: {
        imageTopic: topics.imageTopic,
        cameraInfoTopic: topics.cameraInfoTopic,
        depthTopic: topics.depthTopic,
        labelsTopic: topics.labelsTopic ?? null,
        images: imageCount ?? null,
        gtSlopSec: options.gtSlopSec ?? DEFAULT_GT_SLOP_SEC,
      },
      samples: () => samples(bag, topics, options.gtSlopSec ?? DEFAULT_GT_SLOP_SEC, options.log ?? (() => {})),
      close: () => bag.close(),
    };
  } catch (error) {
    await bag.close();
    throw error;
  }
}

async function chooseTopics(bag: BagReader, options: DatasetOptions): Promise<Topics> {
  const encodings = new Map<string, string>();
  for (const topic of bag.topics) {
    if (topic.schemaName !== IMAGE_TYPE) continue;
    for await (const message of bag.messages([topic.topic])) {
      try {
        encodings.set(topic.topic, decodeMessage<Image>(IMAGE_TYPE, message.data).encoding);
      } catch {
        // Undecodable first message: not offered as a candidate.
      }
      break;
    }
  }
  const camera = selectCameraTopics(
    bag.topics,
    { imageTopic: options.imageTopic ?? "", cameraInfoTopic: options.cameraInfoTopic ?? "" },
    (topic) => encodings.get(topic),
  );
  const imageTopics = bag.topics.filter((t) => t.schemaName === IMAGE_TYPE && t.topic !== camera.imageTopic).map((t) => t.topic);
  const describe = (list: readonly string[]) => list.map((t) => `${t} [${encodings.get(t) ?? "?"}]`).join(", ") || "none";
  const isLabelName = (topic: string) => topic.toLowerCase().includes("label");
  const check = (flag: string, topic: string): string => {
    const schema = bag.topics.find((t) => t.topic === topic)?.schemaName;
    if (schema === IMAGE_TYPE) return topic;
    throw new FatalError(
      schema
        ? `${flag} ${topic} has type ${schema}, expected ${IMAGE_TYPE}`
        : `${flag} ${topic} is not in the bag (Image topics: ${describe(imageTopics)})`,
    );
  };

  let depthTopic: string;
  if (options.depthTopic) {
    depthTopic = check("--depth-topic", options.depthTopic);
  } else {
    const depthEncodings: readonly string[] = DEPTH_ENCODINGS;
    const candidates = imageTopics.filter((t) => !isLabelName(t) && depthEncodings.includes(encodings.get(t) ?? ""));
    if (candidates.length !== 1) {
      throw new FatalError(
        candidates.length === 0
          ? `${bag.path}: no ground-truth depth topic (an Image topic of encoding ${DEPTH_ENCODINGS.join(", ")}); ` +
              `Image topics: ${describe(imageTopics)}; pass --depth-topic`
          : `${bag.path}: several ground-truth depth topics: ${describe(candidates)}; pass --depth-topic`,
      );
    }
    depthTopic = candidates[0]!;
  }

  let labelsTopic: string | undefined;
  if (options.labelsTopic) {
    labelsTopic = check("--labels-topic", options.labelsTopic);
  } else {
    const labelEncodings: readonly string[] = LABEL_ENCODINGS;
    const candidates = imageTopics.filter(
      (t) => t !== depthTopic && isLabelName(t) && labelEncodings.includes(encodings.get(t) ?? ""),
    );
    if (candidates.length > 1) {
      throw new FatalError(`${bag.path}: several ground-truth label topics: ${describe(candidates)}; pass --labels-topic`);
    }
    labelsTopic = candidates[0];
  }
  if (depthTopic === camera.imageTopic || labelsTopic === camera.imageTopic || labelsTopic === depthTopic) {
    throw new FatalError(
      `the camera (${camera.imageTopic}), depth (${depthTopic}) and labels (${labelsTopic ?? "none"}) topics must differ`,
    );
  }
  return { ...camera, depthTopic, labelsTopic };
}

/** Messages of one topic in arrival order, found by the stamp nearest to a camera image's. */
class StampQueue<T> {
  readonly #items: { ns: bigint; value: T }[] = [];
  /** The latest stamp seen: once it is past t + slop, no closer message for t can follow. */
  #latest: bigint | undefined;

  constructor(readonly what: string) {}

  push(ns: bigint, value: T): void {
    this.#items.push({ ns, value });
    if (this.#latest === undefined || ns > this.#latest) this.#latest = ns;
  }

  settledFor(ns: bigint, slopNs: bigint): boolean {
    return this.#latest !== undefined && this.#latest > ns + slopNs;
  }

  /** The message nearest to `ns` within the slop, or how far the nearest one was (undefined: none at all). */
  nearest(ns: bigint, slopNs: bigint): { value: T } | { distanceNs: bigint | undefined } {
    let best: { ns: bigint; value: T } | undefined;
    let bestDistance = 0n;
    for (const item of this.#items) {
      const distance = item.ns > ns ? item.ns - ns : ns - item.ns;
      if (!best || distance < bestDistance) [best, bestDistance] = [item, distance];
    }
    if (best && bestDistance <= slopNs) return { value: best.value };
    return { distanceNs: best ? bestDistance : undefined };
  }

  /** Drops messages too old to pair with any image stamped `ns` or later. */
  prune(ns: bigint, slopNs: bigint): void {
    const keepFrom = this.#items.findIndex((item) => item.ns >= ns - slopNs);
    this.#items.splice(0, keepFrom === -1 ? this.#items.length : keepFrom);
  }
}

/** Why camera images were not paired: per missing part, how many and how near the nearest came. */
class PairingTally {
  paired = 0;
  images = 0;
  readonly #missing = new Map<string, { count: number; nearestNs: bigint | undefined; example: string }>();

  missing(what: string, distanceNs: bigint | undefined, stamp: string): void {
    const entry = this.#missing.get(what);
    if (!entry) {
      this.#missing.set(what, { count: 1, nearestNs: distanceNs, example: stamp });
      return;
    }
    entry.count++;
    if (distanceNs !== undefined && (entry.nearestNs === undefined || distanceNs < entry.nearestNs)) entry.nearestNs = distanceNs;
  }

  reasons(slop: string): string {
    return [...this.#missing]
      .map(
        ([what, { count, nearestNs, example }]) =>
          `${count} without ${what} within ${slop} (e.g. the image at ${example}; ` +
          (nearestNs === undefined ? `no ${what} message at all)` : `nearest ${formatMs(nearestNs)} away)`),
      )
      .join("; ");
  }
}

function formatMs(ns: bigint): string {
  return `${Number(ns) / 1e6} ms`;
}

/**
 * Pairs each camera image with the CameraInfo, depth (and labels) message whose header stamp is
 * nearest to its own, within ±gtSlop: drivers stamp aligned depth and colour separately (a
 * RealSense's aligned depth is some microseconds before the colour frame), so exact stamps
 * would pair nothing. Topic stamps are taken to increase; an image is settled once every topic
 * has passed its stamp + slop, or the bag has ended.
 */
async function* samples(bag: BagReader, topics: Topics, gtSlopSec: number, log: (line: string) => void): AsyncGenerator<EvalSample> {
  const wanted = [topics.imageTopic, topics.cameraInfoTopic, topics.depthTopic];
  if (topics.labelsTopic) wanted.push(topics.labelsTopic);
  const slopNs = BigInt(Math.round(gtSlopSec * 1e9));
  const slop = `±${gtSlopSec * 1000} ms`;
  const infos = new StampQueue<CameraCalibration>("CameraInfo");
  const depths = new StampQueue<Image>("depth");
  const labels = topics.labelsTopic ? new StampQueue<Image>("labels") : undefined;
  const queues: StampQueue<unknown>[] = [infos, depths, ...(labels ? [labels] : [])];
  const pending: { ns: bigint; image: CameraImageMessage }[] = [];
  const tally = new PairingTally();

  function* settle(ended: boolean): Generator<EvalSample> {
    while (pending.length > 0 && (ended || queues.every((q) => q.settledFor(pending[0]!.ns, slopNs)))) {
      const { ns, image } = pending.shift()!;
      tally.images++;
      const stamp = formatStamp(image.message.header.stamp);
      const info = infos.nearest(ns, slopNs);
      const depth = depths.nearest(ns, slopNs);
      const label = labels?.nearest(ns, slopNs);
      let complete = true;
      for (const [queue, found] of [[infos, info], [depths, depth], [labels, label]] as const) {
        if (queue && found && "distanceNs" in found) {
          tally.missing(queue.what, found.distanceNs, stamp);
          complete = false;
        }
      }
      for (const queue of queues) queue.prune(ns, slopNs);
      if (!complete || !("value" in info) || !("value" in depth)) continue;
      tally.paired++;
      yield toSample(image, info.value, depth.value, label && "value" in label ? label.value : undefined, topics);
    }
  }

  for await (const message of bag.messages(wanted)) {
    try {
      if (message.topic === topics.imageTopic) {
        const image: CameraImageMessage =
          topics.imageEncoding === "compressed"
            ? { encoding: "compressed", message: decodeMessage<CompressedImage>(COMPRESSED_IMAGE_TYPE, message.data) }
            : { encoding: "raw", message: decodeMessage<Image>(IMAGE_TYPE, message.data) };
        pending.push({ ns: stampToNanoseconds(image.message.header.stamp), image });
      } else if (message.topic === topics.cameraInfoTopic) {
        const info = decodeMessage<CameraInfo>(CAMERA_INFO_TYPE, message.data);
        infos.push(stampToNanoseconds(info.header.stamp), cameraInfoToCalibration(info));
      } else {
        const image = decodeMessage<Image>(IMAGE_TYPE, message.data);
        const queue = message.topic === topics.depthTopic ? depths : labels!;
        queue.push(stampToNanoseconds(image.header.stamp), image);
      }
    } catch (error) {
      throw new FatalError(`${message.topic}: cannot decode CDR: ${(error as Error).message}`);
    }
    yield* settle(false);
  }
  yield* settle(true);
  for (const damage of bag.damage) log(`${bag.path}: skipped damaged ${formatDamage(damage)}`);
  const topicList =
    `topics: image ${topics.imageTopic}, camera_info ${topics.cameraInfoTopic}, depth ${topics.depthTopic}` +
    (topics.labelsTopic ? `, labels ${topics.labelsTopic}` : "");
  if (tally.paired === 0) {
    throw new FatalError(
      `${bag.path}: no camera image has a CameraInfo and ground truth within ${slop} of its stamp ` +
        `(${tally.images === 0 ? `no image on ${topics.imageTopic} was read` : tally.reasons(slop)}); ${topicList}; ` +
        "a wider --gt-slop (seconds) pairs messages stamped further apart",
    );
  }
  const unpaired = tally.images - tally.paired;
  log(
    `paired ${tally.paired} of ${tally.images} camera images with CameraInfo and ground truth within ${slop}` +
      (unpaired > 0 ? `; ${unpaired} skipped: ${tally.reasons(slop)}` : ""),
  );
}

function toSample(
  image: CameraImageMessage,
  calibration: CameraCalibration,
  depthMsg: Image,
  labelsMsg: Image | undefined,
  topics: Topics,
): EvalSample {
  const { stamp, frame_id: frameId } = image.message.header;
  const stem = formatStamp(stamp);
  let frame;
  try {
    ({ frame } = decodeFrame({ cameraTopic: topics.imageTopic, stamp, frameId, image, receivedAt: 0 }, calibration));
  } catch (error) {
    if (error instanceof FrameError) throw new FatalError(error.message);
    throw error;
  }
  const depthWhat = `${topics.depthTopic} @ ${stem}`;
  const gtDepth = depthFromImage(depthMsg, depthWhat);
  checkGroundTruthSize(depthWhat, frame, "depth", depthMsg.width, depthMsg.height);
  if (!labelsMsg) return { stem, frame, gtDepth };
  const labelsWhat = `${topics.labelsTopic} @ ${stem}`;
  const gtLabels = labelsFromImage(labelsMsg, labelsWhat);
  checkGroundTruthSize(labelsWhat, frame, "labels", labelsMsg.width, labelsMsg.height);
  return { stem, frame, gtDepth, gtLabels };
}
