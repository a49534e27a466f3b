// The node's parameters: one schema used for defaults, validation, params-YAML loading and
// (for the live node) ROS parameter descriptors. Names are ROS-style dotted names.

export type ParameterValue = boolean | number | string | readonly string[];

/** Which commands read a parameter: the live node declares "both" and "live" ones as ROS parameters. */
export type ParameterUse = "both" | "replay" | "live";

interface BaseSpec {
  readonly name: string;
  readonly description: string;
  /** Changeable while running (live node); read-only ones need a restart. */
  readonly dynamic: boolean;
  /** Default "both". */
  readonly use?: ParameterUse;
}
export interface BoolSpec extends BaseSpec {
  readonly type: "bool";
  readonly default: boolean;
}
export interface IntSpec extends BaseSpec {
  readonly type: "integer";
  readonly default: number;
  readonly min: number;
  readonly max: number;
}
export interface DoubleSpec extends BaseSpec {
  readonly type: "double";
  readonly default: number;
  readonly min: number;
  readonly max: number;
}
export interface StringSpec extends BaseSpec {
  readonly type: "string";
  readonly default: string;
  readonly choices?: readonly string[];
}
export interface StringArraySpec extends BaseSpec {
  readonly type: "string_array";
  readonly default: readonly string[];
  readonly choices?: readonly string[];
  /** An empty list is refused unless this is set. */
  readonly allowEmpty?: boolean;
}
export type ParameterSpec = BoolSpec | IntSpec | DoubleSpec | StringSpec | StringArraySpec;

export const COLORMAPS = ["turbo", "viridis", "inferno", "jet"] as const;
export const EXECUTION_PROVIDERS = ["tensorrt", "cuda", "coreml", "dml", "cpu"] as const;
export const SCALE_SOURCES = ["fixed", "depth_image", "points", "ground_plane"] as const;
export type ScaleSource = (typeof SCALE_SOURCES)[number];

export const PARAMETER_SPECS: readonly ParameterSpec[] = [
  { name: "model", type: "string", default: "", dynamic: false,
    description: "Model bundle folder (model.yaml + .onnx). Empty: the bundled models/demo." },
  { name: "image_topic", type: "string", default: "", dynamic: false, use: "replay",
    description: "Replay: camera image topic in the bag (Image or CompressedImage). Empty: found in the bag." },
  { name: "camera_info_topic", type: "string", default: "", dynamic: false, use: "replay",
    description: "Replay: CameraInfo topic. Empty: <image topic's parent>/camera_info, or found in the bag." },
  { name: "image_transport", type: "string", default: "raw", choices: ["raw", "compressed"], dynamic: false, use: "live",
    description: "Live node: subscribe to `image` (raw) or `<image>/compressed` (image_transport's name; `input_transport` is an alias)." },
  { name: "cameras", type: "string_array", default: [], allowEmpty: true, dynamic: false, use: "live",
    description: "Live node: camera namespaces served by one process (e.g. [front, rear]: topics front/image, front/depth/image, ...). Empty: one camera on `image`, `camera_info`." },
  { name: "output_namespace", type: "string", default: "/depthseg", dynamic: false, use: "replay",
    description: "Replay: prefix of the output topics in the bag (the live node publishes in its own namespace)." },
  { name: "sync_slop", type: "double", default: 0.0, min: 0, max: 1, dynamic: true,
    description: "Image/CameraInfo pairing tolerance in seconds; 0 pairs exact stamps only." },
  { name: "rectify", type: "bool", default: true, dynamic: false,
    description: "Undistort images whose CameraInfo has distortion (K, D, R, P) before inference, as image_proc does; set false for image_rect input (its CameraInfo keeps D)." },
  { name: "execution_providers", type: "string_array", default: ["tensorrt", "cuda", "cpu"],
    choices: EXECUTION_PROVIDERS, dynamic: false,
    description: "ONNX Runtime providers tried in order; the first that loads the model is used." },
  { name: "intra_op_threads", type: "integer", default: 0, min: 0, max: 256, dynamic: false,
    description: "ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose. More than the CPU cores is warned about at start (the threads compete and inference slows down)." },
  { name: "inter_op_threads", type: "integer", default: 0, min: 0, max: 256, dynamic: false,
    description: "ONNX Runtime inter-op threads; 0 lets ONNX Runtime choose. More than the CPU cores is warned about at start." },
  { name: "fused_io", type: "bool", default: false, dynamic: false,
    description: "Run the model's pre- and post-processing (resize, normalise; depth and label resize to the camera, range) as ONNX nodes wrapped around its graph, on the model's provider (docs/models.md: Pre- and post-processing in the graph). Metric models without sky or routing only. Off: not faster on the CPUs measured; for GPU providers." },
  { name: "max_in_flight", type: "integer", default: 1, min: 1, max: 8, dynamic: false,
    description: "Frames processed concurrently (inference worker queue depth)." },
  { name: "depth.scale", type: "double", default: 1.0, min: -1e6, max: 1e6, dynamic: true,
    description: "Relative models only: metres = scale*raw+shift (relative_depth) or 1/(scale*raw+shift) (relative_disparity)." },
  { name: "depth.shift", type: "double", default: 0.0, min: -1e6, max: 1e6, dynamic: true,
    description: "Relative models only: see depth.scale." },
  { name: "depth.head", type: "string", default: "auto", dynamic: true,
    description: "Routed models (model.yaml `heads`, ZoeDepth-style): auto picks each frame's metric head from the model's domain output; a head's name (e.g. indoor) uses that head for every frame." },
  { name: "depth.head_switch_frames", type: "integer", default: 4, min: 1, max: 1000, dynamic: true,
    description: "Routed models with depth.head auto: change head only after this many frames in a row voted for the same other head (1 = every frame on its own vote, as ZoeDepth)." },
  { name: "scale.source", type: "string", default: "fixed", choices: SCALE_SOURCES, dynamic: false,
    description: "Relative models: where metres come from. fixed: depth.scale/depth.shift; depth_image: a metric depth image on scale.topic registered to the camera (16UC1 mm or 32FC1 m); points: a PointCloud2 on scale.topic (LiDAR), placed with /tf_static or scale.extrinsics; ground_plane: camera height/pitch/roll over a flat floor. Each frame's scale and shift are fitted on these anchors (README: Getting metres from a relative model)." },
  { name: "scale.topic", type: "string", default: "", dynamic: false,
    description: "scale.source depth_image or points: the anchor topic (live: resolved in each camera's namespace, as `image`; replay: the topic in the bag). Paired with images by stamp within sync_slop." },
  { name: "scale.smoothing", type: "double", default: 1.0, min: 0, max: 3600, dynamic: true,
    description: "Time constant (s) of the filter on the fitted scale and shift; 0 = each frame's own fit." },
  { name: "scale.min_inliers", type: "integer", default: 30, min: 2, max: 1000000, dynamic: true,
    description: "A frame whose fit has fewer inlier anchors keeps the last good estimate (status: scale_age > 0, depth_is_metric false)." },
  { name: "scale.inlier_tolerance", type: "double", default: 0.15, min: 0.001, max: 1, dynamic: true,
    description: "An anchor is an inlier when the fit's depth is within this share of the anchor's metres." },
  { name: "scale.extrinsics.x", type: "double", default: 0.0, min: -1e4, max: 1e4, dynamic: true,
    description: "scale.source points without a TF from the cloud's frame to the camera's: the cloud's frame in the camera optical frame (x right, y down, z forward; metres), p_camera = R(q)·p_cloud + t." },
  { name: "scale.extrinsics.y", type: "double", default: 0.0, min: -1e4, max: 1e4, dynamic: true,
    description: "See scale.extrinsics.x." },
  { name: "scale.extrinsics.z", type: "double", default: 0.0, min: -1e4, max: 1e4, dynamic: true,
    description: "See scale.extrinsics.x." },
  { name: "scale.extrinsics.qx", type: "double", default: 0.0, min: -1, max: 1, dynamic: true,
    description: "Rotation of scale.extrinsics as a quaternion (qx qy qz qw, normalised when used)." },
  { name: "scale.extrinsics.qy", type: "double", default: 0.0, min: -1, max: 1, dynamic: true,
    description: "See scale.extrinsics.qx." },
  { name: "scale.extrinsics.qz", type: "double", default: 0.0, min: -1, max: 1, dynamic: true,
    description: "See scale.extrinsics.qx." },
  { name: "scale.extrinsics.qw", type: "double", default: 1.0, min: -1, max: 1, dynamic: true,
    description: "See scale.extrinsics.qx." },
  { name: "scale.camera_height", type: "double", default: 0.0, min: 0, max: 1e3, dynamic: true,
    description: "scale.source ground_plane: height (m) of the camera's optical centre above a flat floor; must be > 0 for that source." },
  { name: "scale.camera_pitch", type: "double", default: 0.0, min: -1.5, max: 1.5, dynamic: true,
    description: "scale.source ground_plane: downward tilt (rad) of the optical axis from horizontal." },
  { name: "scale.camera_roll", type: "double", default: 0.0, min: -1.5, max: 1.5, dynamic: true,
    description: "scale.source ground_plane: roll (rad) about the optical axis, positive clockwise as seen in the image." },
  { name: "scale.ground_classes", type: "string_array", default: ["floor", "road", "ground", "sidewalk"], allowEmpty: true, dynamic: true,
    description: "scale.source ground_plane: segmentation classes that are floor (names from the model's labels; a model with a segmentation head none of whose classes is named here is refused); empty, or a model without a segmentation head: the lowest scale.ground_band of the image is taken as floor." },
  { name: "scale.upright_classes", type: "string_array", default: ["wall", "building", "fence", "pole", "column", "pillar", "cabinet", "door"], allowEmpty: true, dynamic: true,
    description: "scale.source ground_plane: segmentation classes whose surfaces stand vertically on the floor; their pixels above a floor contact get the depth of the vertical through it, so anchors reach beyond the floor (empty: floor pixels only). A class seen from above (a low cabinet's top) gives outliers." },
  { name: "scale.ground_frame", type: "string", default: "", dynamic: false,
    description: "scale.source ground_plane: a TF frame whose z = 0 plane is the floor, z up (REP 103; e.g. base_footprint). When /tf_static links it to the camera's frame, the camera's height, pitch and roll come from that transform and scale.camera_height/pitch/roll are not used; empty: the parameters." },
  { name: "scale.ground_band", type: "double", default: 0.15, min: 0.01, max: 1, dynamic: true,
    description: "scale.source ground_plane without floor classes (no segmentation head, or scale.ground_classes empty): share of the image height, from the bottom, taken as floor." },
  { name: "range.min", type: "double", default: 0.0, min: 0, max: 1e4, dynamic: true,
    description: "Depth below this (metres) is published as NaN in depth and points." },
  { name: "range.max", type: "double", default: 0.0, min: 0, max: 1e4, dynamic: true,
    description: "Depth above this (metres) is published as NaN; 0 = no limit beyond the model's max_depth." },
  { name: "pointcloud.decimation", type: "integer", default: 1, min: 1, max: 32, dynamic: true,
    description: "Point cloud keeps every n-th pixel in u and v (organised (H/n)x(W/n))." },
  { name: "pointcloud.flying_pixel_threshold", type: "double", default: 0.1, min: 0, max: 10, dynamic: true,
    description: "Points smeared across a depth edge (a pixel off both its neighbours by more than this share of its depth, on an edge rather than a slope) become NaN in `points`; 0 = off. The depth image is not filtered." },
  { name: "colorize.colormap", type: "string", default: "turbo", choices: COLORMAPS, dynamic: true,
    description: "Colour map of depth/colorized." },
  { name: "colorize.depth_min", type: "double", default: 0.0, min: 0, max: 1e4, dynamic: true,
    description: "Depth (metres) drawn with the first colour." },
  { name: "colorize.depth_max", type: "double", default: 0.0, min: 0, max: 1e4, dynamic: true,
    description: "Depth (metres) drawn with the last colour; 0 = range.max, else the model's max_depth, else 10." },
];

/** Parameter values after defaults and validation, typed for the code that reads them. */
export interface DepthsegParams {
  readonly model: string;
  readonly imageTopic: string;
  readonly cameraInfoTopic: string;
  readonly imageTransport: "raw" | "compressed";
  readonly cameras: readonly string[];
  readonly outputNamespace: string;
  readonly syncSlopSec: number;
  readonly rectify: boolean;
  readonly executionProviders: readonly string[];
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly fusedIo: boolean;
  readonly maxInFlight: number;
  readonly depthScale: number;
  readonly depthShift: number;
  /** "auto" or the name of one of the model's heads (checked against the model by checkParamsForModel). */
  readonly depthHead: string;
  readonly headSwitchFrames: number;
  readonly scale: ScaleParams;
  readonly rangeMin: number;
  readonly rangeMax: number;
  readonly decimation: number;
  readonly flyingPixelThreshold: number;
  readonly colormap: (typeof COLORMAPS)[number];
  readonly colorizeMin: number;
  readonly colorizeMax: number;
}

/** The `scale.*` parameters: metres for relative models from a second, sparse source. */
export interface ScaleParams {
  readonly source: ScaleSource;
  readonly topic: string;
  readonly smoothingSec: number;
  readonly minInliers: number;
  readonly inlierTolerance: number;
  /** Cloud frame in the camera optical frame: translation (m) and unit quaternion [x, y, z, w]. */
  readonly extrinsics: { readonly translation: readonly [number, number, number]; readonly rotation: readonly [number, number, number, number] };
  readonly cameraHeight: number;
  readonly cameraPitch: number;
  readonly cameraRoll: number;
  readonly groundClasses: readonly string[];
  readonly uprightClasses: readonly string[];
  /** TF frame whose z = 0 plane is the floor; "" for the angle parameters. */
  readonly groundFrame: string;
  readonly groundBand: number;
}

export class ParameterError extends Error {
  override readonly name = "ParameterError";
}

const SPEC_BY_NAME = new Map(PARAMETER_SPECS.map((spec) => [spec.name, spec]));

/** Older names still accepted in params files and `-p`, and the name each stands for. */
export const PARAMETER_ALIASES: Readonly<Record<string, string>> = { input_transport: "image_transport" };

/** The parameter a name (or an alias of one) stands for. */
export function canonicalParameterName(name: string): string {
  return PARAMETER_ALIASES[name] ?? name;
}

export function findParameterSpec(name: string): ParameterSpec | undefined {
  return SPEC_BY_NAME.get(canonicalParameterName(name));
}

/** Renames aliases to their parameter; an alias and its parameter given different values is refused. */
export function withCanonicalNames(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const canonical = canonicalParameterName(name);
    if (canonical in out && out[canonical] !== value) {
      throw new ParameterError(`${name} (an alias of ${canonical}) is ${JSON.stringify(value)} but ${canonical} is ${JSON.stringify(out[canonical])}; give one`);
    }
    out[canonical] = value;
  }
  return out;
}

/** Checks one value against its spec; returns the normalised value or throws naming the problem. */
export function validateParameter(name: string, value: unknown): ParameterValue {
  const spec = SPEC_BY_NAME.get(name);
  if (!spec) {
    throw new ParameterError(`unknown parameter "${name}" (known: ${[...SPEC_BY_NAME.keys()].join(", ")})`);
  }
  switch (spec.type) {
    case "bool":
      if (typeof value !== "boolean") throw typeError(spec, value);
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) throw typeError(spec, value);
      return checkRange(spec, value);
    case "double":
      // YAML writes 1 for 1.0; ROS would reject an integer for a double, we accept it as users expect.
      if (typeof value !== "number" || !Number.isFinite(value)) throw typeError(spec, value);
      return checkRange(spec, value);
    case "string":
      if (typeof value !== "string") throw typeError(spec, value);
      if (spec.choices && !spec.choices.includes(value)) {
        throw new ParameterError(`parameter "${name}" must be one of ${spec.choices.join(" | ")}, got "${value}"`);
      }
      return value;
    case "string_array": {
      if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) {
        throw typeError(spec, value);
      }
      if (value.length === 0 && !spec.allowEmpty) throw new ParameterError(`parameter "${name}" must not be empty`);
      const bad = spec.choices ? value.filter((v) => !spec.choices!.includes(v)) : [];
      if (bad.length > 0) {
        throw new ParameterError(
          `parameter "${name}" has unknown entries ${bad.join(", ")} (known: ${spec.choices!.join(", ")})`,
        );
      }
      return [...value];
    }
  }
}

function checkRange(spec: IntSpec | DoubleSpec, value: number): number {
  if (value < spec.min || value > spec.max) {
    throw new ParameterError(`parameter "${spec.name}" must be in [${spec.min}, ${spec.max}], got ${value}`);
  }
  return value;
}

function typeError(spec: ParameterSpec, value: unknown): ParameterError {
  const what = spec.type === "double" ? "a finite double" : spec.type;
  return new ParameterError(`parameter "${spec.name}" must be ${what}, got ${describeGiven(value)}`);
}

/** The value as the user wrote it: JSON.stringify would say null for .nan and .inf. */
function describeGiven(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? ".nan (not a number)" : value > 0 ? ".inf (infinity)" : "-.inf (minus infinity)";
  }
  if (value === undefined) return "nothing";
  if (typeof value === "bigint") return `${value}`;
  return JSON.stringify(value) ?? String(value);
}

/** Parameters that ROS itself reads (a shared params file may set them); not ours to check. */
const ROS_OWNED_PARAMETERS = new Set(["use_sim_time", "start_type_description_service"]);
/** rclcpp's per-topic QoS override parameters (see transport/ros/qosProfiles.ts). */
export const QOS_OVERRIDES_PREFIX = "qos_overrides.";

export function isRosOwnedParameter(name: string): boolean {
  return ROS_OWNED_PARAMETERS.has(name) || name.startsWith(QOS_OVERRIDES_PREFIX);
}

/**
 * Defaults overlaid with the given raw values (dotted names), validated, plus cross-field checks.
 * ROS's own parameters (use_sim_time, qos_overrides.*) are skipped: the live node handles them.
 */
export function resolveParameters(raw: Readonly<Record<string, unknown>>): DepthsegParams {
  const values = new Map<string, ParameterValue>();
  for (const spec of PARAMETER_SPECS) values.set(spec.name, spec.default);
  for (const [name, value] of Object.entries(withCanonicalNames(raw))) {
    if (!isRosOwnedParameter(name)) values.set(name, validateParameter(name, value));
  }

  const get = <T extends ParameterValue>(name: string): T => values.get(name) as T;
  const params: DepthsegParams = {
    model: get<string>("model"),
    imageTopic: get<string>("image_topic"),
    cameraInfoTopic: get<string>("camera_info_topic"),
    imageTransport: get<"raw" | "compressed">("image_transport"),
    cameras: get<readonly string[]>("cameras"),
    outputNamespace: get<string>("output_namespace"),
    syncSlopSec: get<number>("sync_slop"),
    rectify: get<boolean>("rectify"),
    executionProviders: get<readonly string[]>("execution_providers"),
    intraOpThreads: get<number>("intra_op_threads"),
    interOpThreads: get<number>("inter_op_threads"),
    fusedIo: get<boolean>("fused_io"),
    maxInFlight: get<number>("max_in_flight"),
    depthScale: get<number>("depth.scale"),
    depthShift: get<number>("depth.shift"),
    depthHead: get<string>("depth.head"),
    headSwitchFrames: get<number>("depth.head_switch_frames"),
    scale: {
      source: get<ScaleSource>("scale.source"),
      topic: get<string>("scale.topic"),
      smoothingSec: get<number>("scale.smoothing"),
      minInliers: get<number>("scale.min_inliers"),
      inlierTolerance: get<number>("scale.inlier_tolerance"),
      extrinsics: {
        translation: [get<number>("scale.extrinsics.x"), get<number>("scale.extrinsics.y"), get<number>("scale.extrinsics.z")],
        rotation: unitQuaternion([
          get<number>("scale.extrinsics.qx"), get<number>("scale.extrinsics.qy"),
          get<number>("scale.extrinsics.qz"), get<number>("scale.extrinsics.qw"),
        ]),
      },
      cameraHeight: get<number>("scale.camera_height"),
      cameraPitch: get<number>("scale.camera_pitch"),
      cameraRoll: get<number>("scale.camera_roll"),
      groundClasses: get<readonly string[]>("scale.ground_classes"),
      uprightClasses: get<readonly string[]>("scale.upright_classes"),
      groundFrame: get<string>("scale.ground_frame"),
      groundBand: get<number>("scale.ground_band"),
    },
    rangeMin: get<number>("range.min"),
    rangeMax: get<number>("range.max"),
    decimation: get<number>("pointcloud.decimation"),
    flyingPixelThreshold: get<number>("pointcloud.flying_pixel_threshold"),
    colormap: get<DepthsegParams["colormap"]>("colorize.colormap"),
    colorizeMin: get<number>("colorize.depth_min"),
    colorizeMax: get<number>("colorize.depth_max"),
  };
  if (params.rangeMax > 0 && params.rangeMax <= params.rangeMin) {
    throw new ParameterError(`range.max (${params.rangeMax}) must be greater than range.min (${params.rangeMin})`);
  }
  if (params.colorizeMax > 0 && params.colorizeMax <= params.colorizeMin) {
    throw new ParameterError(
      `colorize.depth_max (${params.colorizeMax}) must be greater than colorize.depth_min (${params.colorizeMin})`,
    );
  }
  checkCameraNamespaces(params.cameras);
  const { scale } = params;
  if ((scale.source === "depth_image" || scale.source === "points") && scale.topic === "") {
    throw new ParameterError(`scale.source ${scale.source} needs scale.topic (the ${scale.source === "points" ? "PointCloud2" : "depth image"} topic)`);
  }
  if (scale.source === "ground_plane" && scale.groundFrame === "" && !(scale.cameraHeight > 0)) {
    throw new ParameterError("scale.source ground_plane needs scale.camera_height > 0 (metres above the floor) or scale.ground_frame (a TF frame on the floor)");
  }
  if (!params.outputNamespace.startsWith("/")) {
    throw new ParameterError(`output_namespace must be absolute (start with "/"), got "${params.outputNamespace}"`);
  }
  return params;
}

function unitQuaternion(q: readonly [number, number, number, number]): [number, number, number, number] {
  const norm = Math.hypot(...q);
  if (!(norm > 1e-6)) throw new ParameterError(`scale.extrinsics: the quaternion (${q.join(", ")}) has no length`);
  return [q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm];
}

/** A ROS name (relative or absolute) made of tokens: letters, digits, underscores; no empty token. */
const ROS_NAME = /^\/?[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/;

function checkCameraNamespaces(cameras: readonly string[]): void {
  for (const camera of cameras) {
    if (!ROS_NAME.test(camera)) {
      throw new ParameterError(
        `cameras: "${camera}" is not a valid ROS namespace (tokens of letters, digits and _, separated by /, no trailing /)`,
      );
    }
  }
  const seen = new Set<string>();
  for (const camera of cameras) {
    if (seen.has(camera)) throw new ParameterError(`cameras: "${camera}" is listed twice`);
    seen.add(camera);
  }
}

/** The specs a command reads: the live node declares these as ROS parameters. */
export function specsFor(command: "replay" | "live"): ParameterSpec[] {
  return PARAMETER_SPECS.filter((spec) => (spec.use ?? "both") === "both" || spec.use === command);
}
