// MCAP dataset: a rosbag2 recording with the camera (Image or CompressedImage + CameraInfo), a
// ground-truth depth Image (32FC1 metres, or 16UC1 millimetres) and optionally a ground-truth
// label Image (mono8 or 16UC1 class ids). Messages are paired by exact header stamp; a camera
// image is evaluated once its CameraInfo, depth (and labels, when there is a label topic) with
// the same stamp have been read.
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
import type { DatasetOptions, EvalDataset, EvalSample } from "./datasets.js";
import { checkGroundTruthSize, DEPTH_ENCODINGS, depthFromImage, LABEL_ENCODINGS, labelsFromImage } from "./groundTruth.js";

interface Topics extends CameraTopics {
  readonly depthTopic: string;
  readonly labelsTopic: string | undefined;
}

interface Group {
  image?: CameraImageMessage;
  calibration?: CameraCalibration;
  depth?: Image;
  labels?: Image;
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
      hasLabels: topics.labelsTopic !== undefined,
      describe: {
        imageTopic: topics.imageTopic,
        cameraInfoTopic: topics.cameraInfoTopic,
        depthTopic: topics.depthTopic,
        labelsTopic: topics.labelsTopic ?? null,
        images: imageCount ?? null,
      },
      samples: () => samples(bag, topics, options.log ?? (() => {})),
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

async function* samples(bag: BagReader, topics: Topics, log: (line: string) => void): AsyncGenerator<EvalSample> {
  const wanted = [topics.imageTopic, topics.cameraInfoTopic, topics.depthTopic];
  if (topics.labelsTopic) wanted.push(topics.labelsTopic);
  const groups = new Map<bigint, Group>();
  let yielded = 0;
  for await (const message of bag.messages(wanted)) {
    let key: bigint;
    let group: Group;
    try {
      if (message.topic === topics.imageTopic) {
        const image: CameraImageMessage =
          topics.imageEncoding === "compressed"
            ? { encoding: "compressed", message: decodeMessage<CompressedImage>(COMPRESSED_IMAGE_TYPE, message.data) }
            : { encoding: "raw", message: decodeMessage<Image>(IMAGE_TYPE, message.data) };
        [key, group] = groupOf(groups, image.message.header.stamp);
        group.image = image;
      } else if (message.topic === topics.cameraInfoTopic) {
        const info = decodeMessage<CameraInfo>(CAMERA_INFO_TYPE, message.data);
        [key, group] = groupOf(groups, info.header.stamp);
        group.calibration = cameraInfoToCalibration(info);
      } else {
        const image = decodeMessage<Image>(IMAGE_TYPE, message.data);
        [key, group] = groupOf(groups, image.header.stamp);
        if (message.topic === topics.depthTopic) group.depth = image;
        else group.labels = image;
      }
    } catch (error) {
      throw new FatalError(`${message.topic}: cannot decode CDR: ${(error as Error).message}`);
    }
    if (!group.image || !group.calibration || !group.depth || (topics.labelsTopic && !group.labels)) continue;
    groups.delete(key);
    yielded++;
    yield toSample(group.image, group.calibration, group.depth, group.labels, topics);
  }
  for (const damage of bag.damage) log(`${bag.path}: skipped damaged ${formatDamage(damage)}`);
  const unpaired = [...groups.values()].filter((g) => g.image);
  if (unpaired.length > 0 || yielded === 0) {
    const what = (g: Group) =>
      [!g.calibration && "CameraInfo", !g.depth && "depth", topics.labelsTopic && !g.labels && "labels"].filter(Boolean).join(", ");
    const first = unpaired[0];
    const detail = first
      ? `e.g. the image at ${formatStamp(first.image!.message.header.stamp)} has no ${what(first)} with its stamp`
      : `no image on ${topics.imageTopic} was read`;
    if (yielded === 0) {
      throw new FatalError(
        `${bag.path}: no camera image has a CameraInfo and ground truth with the same stamp (${detail}); ` +
          `topics: image ${topics.imageTopic}, camera_info ${topics.cameraInfoTopic}, depth ${topics.depthTopic}` +
          (topics.labelsTopic ? `, labels ${topics.labelsTopic}` : ""),
      );
    }
    log(`${unpaired.length} camera image(s) skipped without a matching CameraInfo/ground truth (${detail})`);
  }
}

function groupOf(groups: Map<bigint, Group>, stamp: { sec: number; nanosec: number }): [bigint, Group] {
  const key = stampToNanoseconds(stamp);
  let group = groups.get(key);
  if (!group) groups.set(key, (group = {}));
  return [key, group];
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
