import { describe, expect, it } from "vitest";
import { addParamRule, addParamsYaml, parseParamsYaml, resolveSections, sectionMatches, sectionsFromRosArgs, type ParameterSections } from "./paramsFile.js";

describe("params sections: which apply to a node (rclcpp's is_node_name_matched, plus rclnodejs's bare name)", () => {
  const cases: [key: string, fqn: string, matches: boolean][] = [
    ["/**", "/depthseg", true],
    ["/**", "/robot/arm/depthseg", true],
    ["/depthseg/depthseg", "/depthseg/depthseg", true],
    ["depthseg/depthseg", "/depthseg/depthseg", true], // leading slash added, as rclcpp does
    ["/**/depthseg", "/depthseg", true],
    ["/**/depthseg", "/a/b/depthseg", true],
    ["/*/depthseg", "/robot/depthseg", true],
    ["/*/depthseg", "/a/b/depthseg", false],
    ["/robot/*", "/robot/depthseg", true],
    ["/robot/*", "/other/depthseg", false],
    ["/other/depthseg", "/robot/depthseg", false],
    ["depthseg", "/robot/depthseg", true], // rclnodejs applies the bare node name
    ["/depthseg", "/robot/depthseg", false],
    ["/robot/depthseg_2", "/robot/depthseg", false],
  ];
  for (const [key, fqn, matches] of cases) {
    it(`${key} ${matches ? "applies" : "does not apply"} to ${fqn}`, () => expect(sectionMatches(key, fqn)).toBe(matches));
  }
});

describe("params sections: order and precedence (rcl_params_t order of first appearance)", () => {
  it("applies matching sections in order of first appearance; a repeated key updates its entry in place", () => {
    const sections: ParameterSections = new Map();
    addParamsYaml(sections, "/**:\n  ros__parameters: { a: 1, b: 1 }\n/robot/depthseg:\n  ros__parameters: { a: 2 }\n", "one.yaml");
    addParamsYaml(sections, "/**:\n  ros__parameters: { b: 3, c: 3 }\n", "two.yaml");
    expect([...sections.keys()]).toEqual(["/**", "/robot/depthseg"]);
    expect(resolveSections(sections, "/robot/depthseg")).toEqual({ values: { a: 2, b: 3, c: 3 }, applied: ["/**", "/robot/depthseg"] });
  });

  it("puts -p rules under /** (or the node they name), parsed as YAML", () => {
    const sections: ParameterSections = new Map();
    addParamRule(sections, "range.max:=5");
    addParamRule(sections, "depthseg:cameras:=[front, rear]");
    addParamRule(sections, "qos_overrides./points.publisher.depth:=2");
    addParamRule(sections, "other:range.max:=9");
    expect(resolveSections(sections, "/robot/depthseg").values).toEqual({ "range.max": 5, cameras: ["front", "rear"], "qos_overrides./points.publisher.depth": 2 });
    expect(() => addParamRule(sections, "range.max=5")).toThrow(/cannot parse parameter rule "range.max=5"/);
  });

  it("joins nested node keys as rcl does (robot: depthseg: ros__parameters)", () => {
    const sections: ParameterSections = new Map();
    addParamsYaml(sections, "robot:\n  depthseg:\n    ros__parameters:\n      range: { max: 7 }\n", "nested.yaml");
    expect([...sections.keys()]).toEqual(["robot/depthseg"]);
    expect(resolveSections(sections, "/robot/depthseg").values).toEqual({ "range.max": 7 });
  });

  it("reads --params-file and -p from --ros-args sections only, in command-line order", () => {
    const files: Record<string, string> = { "f.yaml": "/depthseg/depthseg:\n  ros__parameters: { input_transport: compressed, range: { max: 4 } }\n" };
    const argv = ["node", "depthseg", "-p", "ignored:=1", "--ros-args", "--params-file", "f.yaml", "-r", "a:=b", "-p", "range.max:=6", "--", "-p", "after:=1"];
    const resolved = resolveSections(sectionsFromRosArgs(argv, (path) => files[path]!), "/depthseg/depthseg");
    // `-p` made the `/**` entry after the file's section, so it wins.
    expect(resolved.values).toEqual({ input_transport: "compressed", "range.max": 6 });
  });

  it("offline runs apply the sections of the launch files' node name, /depthseg/depthseg", () => {
    expect(parseParamsYaml("/depthseg/depthseg:\n  ros__parameters: { input_transport: compressed }\n", "launch.yaml")).toEqual({ input_transport: "compressed" });
    expect(parseParamsYaml("/**/depthseg:\n  ros__parameters: { sync_slop: 0.1 }\n", "dump.yaml")).toEqual({ sync_slop: 0.1 });
  });
});
