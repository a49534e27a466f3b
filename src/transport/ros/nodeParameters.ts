// The node's parameters as ROS parameters: declared from the schema with descriptors (type,
// description, range or choices, read-only), initial values from the params file / `-p` overrides, and
// run-time changes (`ros2 param set`) validated by the same rules as a params file, so a change
// that `depthseg replay --params` would refuse is refused live too, with the same reason.

import type * as rclnodejs from "rclnodejs";
import {
  ParameterError,
  findParameterSpec,
  isRosOwnedParameter,
  QOS_OVERRIDES_PREFIX,
  resolveParameters,
  withCanonicalNames,
  specsFor,
  type DepthsegParams,
  type ParameterSpec,
  type ParameterValue,
} from "../../config/parameters.js";
import {
  PARAMETER_BOOL,
  PARAMETER_DOUBLE,
  PARAMETER_INTEGER,
  PARAMETER_STRING,
  PARAMETER_STRING_ARRAY,
  type RclModule,
  type RclNode,
  type RclParameter,
  type RclSetParametersResult,
} from "./rclPort.js";

export function rosParameterType(spec: ParameterSpec): rclnodejs.ParameterType {
  switch (spec.type) {
    case "bool":
      return PARAMETER_BOOL;
    case "integer":
      return PARAMETER_INTEGER;
    case "double":
      return PARAMETER_DOUBLE;
    case "string":
      return PARAMETER_STRING;
    case "string_array":
      return PARAMETER_STRING_ARRAY;
  }
}

/** A ROS parameter value as our schema holds it: integers arrive as bigint, arrays maybe typed. */
export function fromRosValue(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<unknown>, fromRosValue);
  if (Array.isArray(value)) return value.map(fromRosValue);
  return value;
}

function toRosValue(spec: ParameterSpec, value: ParameterValue): unknown {
  if (spec.type === "integer") return BigInt(value as number);
  if (spec.type === "string_array") return [...(value as readonly string[])];
  return value;
}

/**
 * The descriptor `ros2 param describe` shows. Ranges are enforced by our on-set callback and
 * written into additional_constraints, not given to rclnodejs as Range objects: rclnodejs 2.2.0
 * leaves them out of describe (its toMessage reads a field the constructor never sets) and
 * refuses an out-of-range value with the garbled reason "Parameter X does not  readonly".
 */
export function parameterDescriptor(rcl: RclModule, spec: ParameterSpec): rclnodejs.ParameterDescriptor {
  const descriptor = new rcl.ParameterDescriptor(spec.name, rosParameterType(spec), spec.description, !spec.dynamic);
  if (spec.type === "double" || spec.type === "integer") {
    descriptor.additionalConstraints = `range: [${spec.min}, ${spec.max}]`;
  } else if ((spec.type === "string" || spec.type === "string_array") && spec.choices) {
    descriptor.additionalConstraints = `${spec.type === "string_array" ? "each one of" : "one of"}: ${spec.choices.join(", ")}`;
  }
  return descriptor;
}

export interface NodeParametersOptions {
  readonly rcl: RclModule;
  readonly node: RclNode;
  /** Dotted names → values from the params files and `-p` rules that apply to the node (paramsFile.ts). */
  readonly overrides: Readonly<Record<string, unknown>>;
}

/**
 * Owns the node's parameter values. `params` is what the pipeline reads on every frame; it is
 * replaced (never mutated) when a run-time change is accepted.
 */
export class NodeParameters {
  readonly #rcl: RclModule;
  readonly #node: RclNode;
  readonly #values = new Map<string, ParameterValue>();
  #params: DepthsegParams;
  #checkForModel: (params: DepthsegParams) => void = () => {};
  /** The `qos_overrides.*` overrides, by name (applied by the node's QoS resolver). */
  readonly qosOverrides = new Map<string, unknown>();

  /** Validates the overrides (params files, `-p`); throws ParameterError. */
  constructor(options: NodeParametersOptions) {
    this.#rcl = options.rcl;
    this.#node = options.node;
    const liveSpecs = new Set(specsFor("live").map((spec) => spec.name));
    const raw: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(withCanonicalNames(options.overrides))) {
      if (name.startsWith(QOS_OVERRIDES_PREFIX)) this.qosOverrides.set(name, value);
      if (isRosOwnedParameter(name)) continue;
      const spec = findParameterSpec(name);
      // Replay-only names (image_topic, ...) may sit in a shared params file; they do nothing here.
      if (spec && !liveSpecs.has(spec.name)) continue;
      raw[name] = value;
    }
    this.#params = resolveParameters(raw);
    for (const spec of specsFor("live")) this.#values.set(spec.name, spec.default);
    for (const [name, value] of Object.entries(raw)) this.#values.set(name, value as ParameterValue);
  }

  get params(): DepthsegParams {
    return this.#params;
  }

  /**
   * Declares every live parameter with its descriptor and validated value, then starts accepting
   * run-time changes. Overrides were applied (and validated, integers for doubles accepted) by
   * the constructor, so rclnodejs is told to ignore its own copy of them. `checkForModel` holds
   * the checks that need the loaded model (e.g. the colour-map range); it throws ParameterError.
   */
  declare(checkForModel: (params: DepthsegParams) => void): void {
    this.#checkForModel = checkForModel;
    const specs = specsFor("live");
    const parameters = specs.map(
      (spec) => new this.#rcl.Parameter(spec.name, rosParameterType(spec), toRosValue(spec, this.#values.get(spec.name)!)),
    );
    const descriptors = specs.map((spec) => parameterDescriptor(this.#rcl, spec));
    this.#node.declareParameters(parameters, descriptors, true);
    // `ros2 param set /depthseg range.max 5` sends an integer; ROS would refuse it for a double.
    this.#node.addPreSetParametersCallback((changes) => changes.map((p) => this.#integerAsDouble(p)));
    this.#node.addOnSetParametersCallback((changes) => this.#validateChanges(changes));
  }

  #integerAsDouble(parameter: rclnodejs.Parameter): rclnodejs.Parameter {
    const spec = findParameterSpec(parameter.name);
    if (spec?.type !== "double" || parameter.type !== PARAMETER_INTEGER) return parameter;
    return new this.#rcl.Parameter(parameter.name, PARAMETER_DOUBLE, Number(parameter.value));
  }

  #validateChanges(changes: readonly RclParameter[]): RclSetParametersResult {
    const candidate = new Map(this.#values);
    for (const change of changes) {
      if (!this.#values.has(change.name)) continue; // not ours (use_sim_time, ...)
      candidate.set(change.name, fromRosValue(change.value) as ParameterValue);
    }
    try {
      const params = resolveParameters(Object.fromEntries(candidate));
      this.#checkForModel(params);
      this.#params = params;
      for (const [name, value] of candidate) this.#values.set(name, value);
      return { successful: true, reason: "" };
    } catch (error) {
      if (error instanceof ParameterError) return { successful: false, reason: error.message };
      throw error;
    }
  }
}
