import { describe, expect, it } from "vitest";
import { PARAMETER_SPECS, ParameterError, resolveParameters, validateParameter } from "./parameters.js";
import { parseParamsYaml } from "./paramsFile.js";

describe("parameters", () => {
  it("defaults are valid for their own specs", () => {
    for (const spec of PARAMETER_SPECS) expect(validateParameter(spec.name, spec.default)).toEqual(spec.default);
    const params = resolveParameters({});
    expect(params.executionProviders).toEqual(["tensorrt", "cuda", "cpu"]);
    expect(params.decimation).toBe(1);
    expect(params.outputNamespace).toBe("/depthseg");
  });

  it("rejects bad values with a reason naming the parameter", () => {
    expect(() => validateParameter("pointcloud.decimation", 0)).toThrow(/pointcloud.decimation.*\[1, 32\].*got 0/);
    expect(() => validateParameter("pointcloud.decimation", 1.5)).toThrow(/must be integer/);
    expect(() => validateParameter("colorize.colormap", "rainbow")).toThrow(/turbo \| viridis/);
    expect(() => validateParameter("execution_providers", ["cuda", "npu"])).toThrow(/unknown entries npu/);
    expect(() => validateParameter("nope", 1)).toThrow(ParameterError);
    expect(() => resolveParameters({ "range.min": 5, "range.max": 2 })).toThrow(/range.max \(2\).*range.min \(5\)/);
  });

  it("says what was given for .nan and .inf, which JSON would print as null", () => {
    const fromFile = parseParamsYaml("/**:\n  ros__parameters:\n    range: { max: .nan, min: .inf }\n    depth: { shift: -.inf }\n", "p.yaml");
    expect(() => validateParameter("range.max", fromFile["range.max"])).toThrow(
      'parameter "range.max" must be a finite double, got .nan (not a number)',
    );
    expect(() => validateParameter("range.min", fromFile["range.min"])).toThrow('parameter "range.min" must be a finite double, got .inf (infinity)');
    expect(() => validateParameter("depth.shift", fromFile["depth.shift"])).toThrow("got -.inf (minus infinity)");
    expect(() => validateParameter("intra_op_threads", Infinity)).toThrow('parameter "intra_op_threads" must be integer, got .inf (infinity)');
    expect(() => validateParameter("rectify", null)).toThrow('parameter "rectify" must be bool, got null');
  });
});

describe("params YAML", () => {
  it("flattens nested maps to dotted names, node section overriding /**", () => {
    const yaml = `
/**:
  ros__parameters:
    sync_slop: 0.02
    depth: { scale: 2.0 }
depthseg:
  ros__parameters:
    depth:
      scale: 3.0
      shift: 0.5
    execution_providers: [cuda, cpu]
other_node:
  ros__parameters: { sync_slop: 9 }
`;
    expect(parseParamsYaml(yaml, "test.yaml")).toEqual({
      sync_slop: 0.02,
      "depth.scale": 3.0,
      "depth.shift": 0.5,
      execution_providers: ["cuda", "cpu"],
    });
  });

  it("names the file and what is missing", () => {
    expect(() => parseParamsYaml("foo:\n  ros__parameters: {}\n", "p.yaml")).toThrow(/p.yaml: no section for node \/depthseg\/depthseg \(found: foo\)/);
    expect(() => parseParamsYaml("depthseg:\n  x: 1\n", "p.yaml")).toThrow(/no "ros__parameters"/);
    expect(() => parseParamsYaml("depthseg: [", "p.yaml")).toThrow(/not valid YAML/);
  });
});
