// .msg sources of the types that @foxglove/rosmsg-msgs-common does not ship.
//
// vision_msgs (ros-perception/vision_msgs, ros2 branch; checked against the rosidl-generated
// type description sources vision_msgs/msg/detail/{label_info,vision_class}__description.c,
// whose raw .msg text has exactly these fields): LabelInfo = std_msgs/Header header,
// vision_msgs/VisionClass[] class_map, float32 threshold; VisionClass = uint16 class_id,
// string class_name. Comments are dropped: the schema text we write is generated anyway.
//
// depthseg/PerceptionStatus is embedded (not read from msg/ at runtime) so this module works
// from src/, dist/ and worker threads alike; msgSources.test.ts fails when it drifts from
// msg/PerceptionStatus.msg.

export const VISION_CLASS_MSG = "uint16 class_id\nstring class_name\n";

export const LABEL_INFO_MSG =
  "std_msgs/Header header\nvision_msgs/VisionClass[] class_map\nfloat32 threshold\n";

/** Copy of msg/PerceptionStatus.msg, line by line. */
export const PERCEPTION_STATUS_MSG = [
  "# Per-frame report of the depthseg pipeline, published on `status` with the input frame's header.",
  "",
  "std_msgs/Header header          # stamp and frame_id of the input image",
  "string camera                   # input image topic this frame came from",
  "string model                    # model bundle name",
  "string trained_on               # what the model was trained on (model.yaml trained_on, e.g. synthetic-indoor); empty: not declared",
  "string execution_provider       # onnxruntime provider that ran the model: tensorrt, cuda or cpu",
  "",
  "string depth_kind               # metric | relative_disparity | relative_depth",
  "bool depth_is_metric            # true for a metric model, or a relative one whose scale this frame's anchors fitted (scale.source); false: fixed depth.scale/depth.shift, or a held estimate",
  "string depth_head               # metric head chosen by domain routing; empty when the bundle has one head",
  "float32 depth_scale             # metres = f(raw; depth_scale, depth_shift) for relative kinds; 1 for metric",
  "float32 depth_shift",
  "float32 depth_valid_fraction    # share of the model's depth output that is finite and > 0; below 0.5 only status is published (model_output_invalid)",
  "",
  "string scale_source             # scale.source: fixed | depth_image | points | ground_plane (fixed for metric models)",
  "uint32 scale_anchors            # metric anchors the scale fit had on this frame",
  "uint32 scale_inliers            # inlier anchors of the scale estimate in use",
  "float32 scale_residual          # median relative depth error of those inliers; NaN without an estimate",
  "float32 scale_age               # s since anchors last gave a fit (0: this frame's); NaN: no estimate yet",
  "",
  "float32 latency_decode_ms",
  "float32 latency_preprocess_ms",
  "float32 latency_inference_ms",
  "float32 latency_postprocess_ms",
  "float32 latency_backproject_ms",
  "float32 latency_encode_ms",
  "float32 latency_total_ms        # from the image's arrival to the last output written",
  "",
  "uint64 frames_processed         # totals for this camera since start",
  "uint64 frames_dropped           # replaced while waiting (latest wins)",
  "uint64 frames_failed            # rejected input or inference errors",
  "",
].join("\n");
