// The rclnodejs declarations the live node is type-checked against (.rclnodejs-types): rclnodejs's
// own types/*.d.ts at the locked version, plus interfaces.d.ts generated from ROS 2 .msg files.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { knownDefinitions } from "../src/messages/definitions.js";
import { PACKAGE_ROOT } from "../src/paths.js";
import {
  DURABILITY_TRANSIENT_LOCAL,
  DURABILITY_VOLATILE,
  PARAMETER_BOOL,
  PARAMETER_DOUBLE,
  PARAMETER_INTEGER,
  PARAMETER_STRING,
  PARAMETER_STRING_ARRAY,
} from "../src/transport/ros/rclPort.js";
import { interfacesDts } from "../tools/ros-types/interfacesDts.js";
import { TYPES_DIR } from "../tools/ros-types/setup.js";

const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version: string; integrity: string; optional?: boolean }>;
};
const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as {
  optionalDependencies?: Record<string, string>;
  dependencies: Record<string, string>;
};

describe("rclnodejs declarations", () => {
  it("rclnodejs 2.x is an optional dependency only, and the declarations are of its locked version", () => {
    expect(pkg.optionalDependencies?.["rclnodejs"]).toMatch(/^\^?2\./);
    expect(pkg.dependencies["rclnodejs"]).toBeUndefined();
    const locked = lock.packages["node_modules/rclnodejs"]!;
    expect(locked.optional).toBe(true);
    const source = readFileSync(join(TYPES_DIR, "SOURCE"), "utf8");
    expect(source).toContain(`rclnodejs ${locked.version} ${locked.integrity}`);
    // rclnodejs's own files, not ours: its module declaration and its Node class.
    expect(readFileSync(join(TYPES_DIR, "index.d.ts"), "utf8")).toContain("declare module 'rclnodejs'");
    expect(readFileSync(join(TYPES_DIR, "node.d.ts"), "utf8")).toMatch(/class Node \{/);
  });

  it("interfaces.d.ts is generated from the .msg definitions, in rostsd_gen's shapes", () => {
    const text = interfacesDts(knownDefinitions());
    expect(readFileSync(join(TYPES_DIR, "interfaces.d.ts"), "utf8")).toBe(text);
    const block = (pkgName: string, type: string) => {
      const start = text.indexOf(`      export interface ${type} {`, text.indexOf(`  namespace ${pkgName} {`));
      return text.slice(start, text.indexOf("      }\n", start));
    };
    expect(block("sensor_msgs", "Image")).toContain("data: number[] | Uint8Array;");
    expect(block("sensor_msgs", "Image")).toContain("header: std_msgs.msg.Header;");
    expect(block("std_msgs", "Header")).toContain("stamp: builtin_interfaces.msg.Time;");
    expect(block("sensor_msgs", "CameraInfo")).toContain("k: number[] | Float64Array;");
    expect(block("vision_msgs", "LabelInfo")).toContain("class_map: vision_msgs.msg.VisionClass[];");
    expect(block("depthseg", "PerceptionStatus")).toContain("frames_dropped: bigint;");
    expect(block("diagnostic_msgs", "DiagnosticStatus")).toContain("level: number;");
    // Constants become readonly members of the constructor type, as rostsd_gen writes them.
    const constructor = text.slice(text.indexOf("      export interface DiagnosticStatusConstructor {"));
    expect(constructor.slice(0, constructor.indexOf("      }\n"))).toContain("        readonly WARN: number;\n");
    expect(text).toContain("    'sensor_msgs/msg/PointCloud2': sensor_msgs.msg.PointCloud2,");
    expect(text).toContain("    'rcl_interfaces/msg/SetParametersResult': rcl_interfaces.msg.SetParametersResult,");
  });

  it("the parameter and QoS constants the node uses equal rcl_interfaces' and rmw's values", () => {
    const constants = Object.fromEntries(
      knownDefinitions()["rcl_interfaces/ParameterType"]!.definitions.filter((f) => f.isConstant).map((f) => [f.name, f.value]),
    );
    expect([PARAMETER_BOOL, PARAMETER_INTEGER, PARAMETER_DOUBLE, PARAMETER_STRING, PARAMETER_STRING_ARRAY]).toEqual([
      constants["PARAMETER_BOOL"],
      constants["PARAMETER_INTEGER"],
      constants["PARAMETER_DOUBLE"],
      constants["PARAMETER_STRING"],
      constants["PARAMETER_STRING_ARRAY"],
    ]);
    // rmw_qos_durability_policy_e: SYSTEM_DEFAULT 0, TRANSIENT_LOCAL 1, VOLATILE 2.
    expect([DURABILITY_TRANSIENT_LOCAL, DURABILITY_VOLATILE]).toEqual([1, 2]);
  });
});
