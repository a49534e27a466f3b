import { parse } from "@foxglove/rosmsg";
import { ros2humble, ros2jazzy } from "@foxglove/rosmsg-msgs-common";
import { describe, expect, it } from "vitest";

import { ROS_TYPE_NAMES, lookupDefinition, rosTypeSchema, shortTypeName } from "./definitions.js";
import { SCHEMA_SEPARATOR, msgText } from "./ros2msgSchema.js";

describe("rosTypeSchema", () => {
  it.each(ROS_TYPE_NAMES)("schema text of %s parses back to the same definitions", (typeName) => {
    const schema = rosTypeSchema(typeName);
    const parsed = parse(schema.schemaText, { ros2: true });
    expect(parsed).toHaveLength(schema.definitions.length);
    expect(parsed[0]?.definitions).toEqual(schema.definitions[0]?.definitions);
    expect(parsed.slice(1)).toEqual(schema.definitions.slice(1));
  });

  it("writes sensor_msgs/msg/Image exactly as rosbag2 lays out ros2msg text", () => {
    const expected = [
      "std_msgs/Header header",
      "uint32 height",
      "uint32 width",
      "string encoding",
      "uint8 is_bigendian",
      "uint32 step",
      "uint8[] data",
      "",
      "=".repeat(80),
      "MSG: std_msgs/Header",
      "builtin_interfaces/Time stamp",
      "string frame_id",
      "",
      "=".repeat(80),
      "MSG: builtin_interfaces/Time",
      "int32 sec",
      "uint32 nanosec",
      "",
    ].join("\n");
    expect(rosTypeSchema("sensor_msgs/msg/Image").schemaText).toBe(expected);
  });

  it("orders dependencies depth-first, sorted, each once (CameraInfo, DiagnosticArray)", () => {
    const msgLines = (text: string): string[] => text.split("\n").filter((l) => l.startsWith("MSG: "));
    expect(msgLines(rosTypeSchema("sensor_msgs/msg/CameraInfo").schemaText)).toEqual([
      "MSG: sensor_msgs/RegionOfInterest",
      "MSG: std_msgs/Header",
      "MSG: builtin_interfaces/Time",
    ]);
    expect(msgLines(rosTypeSchema("diagnostic_msgs/msg/DiagnosticArray").schemaText)).toEqual([
      "MSG: diagnostic_msgs/DiagnosticStatus",
      "MSG: diagnostic_msgs/KeyValue",
      "MSG: std_msgs/Header",
      "MSG: builtin_interfaces/Time",
    ]);
    expect(msgLines(rosTypeSchema("vision_msgs/msg/LabelInfo").schemaText)).toEqual([
      "MSG: std_msgs/Header",
      "MSG: builtin_interfaces/Time",
      "MSG: vision_msgs/VisionClass",
    ]);
    expect(rosTypeSchema("sensor_msgs/msg/CameraInfo").schemaText).toContain("float64[9] k\n");
    expect(rosTypeSchema("sensor_msgs/msg/PointCloud2").schemaText).toContain("uint8 FLOAT32=7\n");
  });

  it("defines vision_msgs LabelInfo/VisionClass with the upstream fields", () => {
    const fields = (name: string): string[] =>
      (lookupDefinition(name)?.definitions ?? []).map((f) => `${f.type}${f.isArray === true ? "[]" : ""} ${f.name}`);
    expect(fields("vision_msgs/LabelInfo")).toEqual([
      "std_msgs/Header header",
      "vision_msgs/VisionClass[] class_map",
      "float32 threshold",
    ]);
    expect(fields("vision_msgs/VisionClass")).toEqual(["uint16 class_id", "string class_name"]);
  });

  it("uses standard definitions that are identical in Humble and Jazzy", () => {
    const standard = ROS_TYPE_NAMES.filter((t) => !t.startsWith("vision_msgs") && !t.startsWith("depthseg"));
    const humble: Readonly<Record<string, unknown>> = ros2humble;
    const jazzy: Readonly<Record<string, unknown>> = ros2jazzy;
    for (const typeName of standard) {
      for (const def of rosTypeSchema(typeName).definitions) {
        const name = def.name ?? "";
        expect(humble[name], name).toEqual(jazzy[name]);
        expect(def, name).toEqual(jazzy[name]);
      }
    }
  });

  it("rejects an unknown type, naming the known ones", () => {
    expect(() => rosTypeSchema("geometry_msgs/msg/Twist")).toThrow(
      /unknown ROS message type "geometry_msgs\/msg\/Twist".*sensor_msgs\/msg\/Image/,
    );
  });

  it("shortens ROS 2 names only when they have the msg namespace", () => {
    expect(shortTypeName("sensor_msgs/msg/Image")).toBe("sensor_msgs/Image");
    expect(shortTypeName("std_msgs/Header")).toBe("std_msgs/Header");
  });
});

describe("msgText", () => {
  it("round-trips bounds, defaults and constants through the .msg parser", () => {
    const source = [
      "string<=5 a",
      "int32[<=3] b",
      "int32[] c [1, 2]",
      "int32 d 5",
      'string e "hi"',
      'string F="x y"',
      "float64 G=1.5",
      "bool[4] h",
      "",
    ].join("\n");
    const [def] = parse(source, { ros2: true });
    if (def === undefined) throw new Error("parse returned nothing");
    const text = msgText(def);
    expect(text).toBe(source);
    expect(parse(text, { ros2: true })[0]?.definitions).toEqual(def.definitions);
  });

  it("exports the 80-character separator", () => {
    expect(SCHEMA_SEPARATOR).toMatch(/^={80}$/);
  });
});
