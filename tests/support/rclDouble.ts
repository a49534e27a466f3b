// A test double of the part of rclnodejs the live node uses (src/transport/ros/rclPort.ts), for
// contract tests on machines without ROS 2. It is typed against rclnodejs's own declarations (the
// port's Conforms checks), and its behaviour follows rclnodejs 2.2.0's lib/node.js and
// lib/parameter.js and rcl's documented rules, kept deliberately small:
// - `--ros-args`: `-r from:=to` (also `node:from:=to`, `__ns`, `__node`), `-p name:=value`,
//   `--params-file`; anything else is refused, as rcl refuses it.
// - Names: relative names expand in the node's namespace, `~` to the node's name; the first
//   remap rule whose expanded `from` equals the expanded name applies (ROS 2 name remapping).
// - Parameters: overrides from the `/**` and node-name sections of params files (what rclnodejs
//   applies), then `-p`;
//   declare/set run pre-set callbacks, validation (declared, read-only, type, range) and on-set
//   callbacks in rclnodejs's order, and refuse with its reasons.
// - Publishers copy each message when it is published (rclnodejs serialises in publish), so a
//   test sees what went out even though the node reuses its buffers afterwards.
// What it cannot show is real DDS behaviour (discovery, QoS compatibility, delivery): that is
// for a robot (README, "Check that it works on a robot").

import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { flatten } from "../../src/config/paramsFile.js";
import type * as rclnodejs from "rclnodejs";
import type {
  RclLogger,
  RclMessage,
  RclMessageTypeName,
  RclModule,
  RclNode,
  RclPublisher,
  RclSetParametersResult,
  RclSubscription,
  RclTimer,
} from "../../src/transport/ros/rclPort.js";

type ParameterType = rclnodejs.ParameterType;
const NOT_SET = 0 as ParameterType;
const BOOL = 1 as ParameterType;
const INTEGER = 2 as ParameterType;
const DOUBLE = 3 as ParameterType;
const STRING = 4 as ParameterType;
const BOOL_ARRAY = 6 as ParameterType;
const INTEGER_ARRAY = 7 as ParameterType;
const DOUBLE_ARRAY = 8 as ParameterType;
const STRING_ARRAY = 9 as ParameterType;

export class DoubleParameter implements rclnodejs.Parameter {
  readonly name: string;
  readonly type: ParameterType;
  value: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- rclnodejs declares `value: any`

  constructor(name: string, type: ParameterType, value?: unknown) {
    this.name = name;
    this.type = type;
    // As rclnodejs: integer parameters hold bigint.
    this.value = type === INTEGER && value !== undefined ? BigInt(value as number) : value;
  }

  validate(): void {
    if (!this.name || this.name.trim() === "") throw new TypeError("parameter name must be a non-empty string");
    if (!validValue(this.value, this.type)) {
      throw new TypeError(`parameter ${this.name}: value ${String(this.value)} is not of type ${this.type}`);
    }
  }

  toParameterMessage(): rclnodejs.rcl_interfaces.msg.Parameter {
    return { name: this.name, value: this.toParameterValueMessage() };
  }

  toParameterValueMessage(): rclnodejs.rcl_interfaces.msg.ParameterValue {
    const v = this.value;
    return {
      type: this.type,
      bool_value: this.type === BOOL ? (v as boolean) : false,
      integer_value: this.type === INTEGER ? (v as bigint) : 0n,
      double_value: this.type === DOUBLE ? (v as number) : 0,
      string_value: this.type === STRING ? (v as string) : "",
      byte_array_value: [],
      bool_array_value: this.type === BOOL_ARRAY ? (v as boolean[]) : [],
      integer_array_value: this.type === INTEGER_ARRAY ? (v as bigint[]) : [],
      double_array_value: this.type === DOUBLE_ARRAY ? (v as number[]) : [],
      string_array_value: this.type === STRING_ARRAY ? (v as string[]) : [],
    };
  }
}

function validValue(value: unknown, type: ParameterType): boolean {
  if (value === null || value === undefined) return type === NOT_SET;
  switch (type) {
    case BOOL:
      return typeof value === "boolean";
    case INTEGER:
      return typeof value === "bigint";
    case DOUBLE:
      return typeof value === "number";
    case STRING:
      return typeof value === "string";
    case BOOL_ARRAY:
      return Array.isArray(value) && value.every((v) => typeof v === "boolean");
    case INTEGER_ARRAY:
      return Array.isArray(value) && value.every((v) => typeof v === "bigint");
    case DOUBLE_ARRAY:
      return Array.isArray(value) && value.every((v) => typeof v === "number");
    case STRING_ARRAY:
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    default:
      return false;
  }
}

export class DoubleParameterDescriptor implements rclnodejs.ParameterDescriptor {
  additionalConstraints = "";
  rangeConstraint: rclnodejs.Range;

  constructor(
    readonly name: string,
    readonly type: ParameterType,
    readonly description = "",
    readonly readOnly = false,
    range?: rclnodejs.Range,
  ) {
    this.rangeConstraint = range as rclnodejs.Range;
  }

  hasRange(): boolean {
    return this.rangeConstraint !== undefined;
  }

  validate(): void {
    if (this.hasRange() && !this.rangeConstraint.isValidType(this.type)) {
      throw new Error(`Incompatible Range for parameter type (${this.name})`);
    }
  }

  validateParameter(parameter: rclnodejs.Parameter): void {
    parameter.validate();
    this.validate();
    if (this.name !== parameter.name) throw new Error(`Name mismatch: ${this.name} vs ${parameter.name}`);
    if (this.type !== parameter.type) throw new TypeError(`Parameter ${this.name} is of type ${this.type}, got ${parameter.type}`);
    if (this.hasRange() && !this.rangeConstraint.inRange(parameter.value)) {
      throw new RangeError(`Parameter ${this.name}: ${String(parameter.value)} out of range ${this.rangeConstraint.fromValue} to ${this.rangeConstraint.toValue}`);
    }
  }

  toMessage(): rclnodejs.rcl_interfaces.msg.ParameterDescriptor {
    return {
      name: this.name,
      type: this.type,
      description: this.description,
      additional_constraints: this.additionalConstraints,
      read_only: this.readOnly,
      dynamic_typing: false,
      // As rclnodejs 2.2.0 (see nodeParameters.ts): ranges never reach the message.
      floating_point_range: [],
      integer_range: [],
    };
  }
}

export class DoubleQoS implements rclnodejs.QoS {
  history: number;
  depth: number;
  durability: rclnodejs.QoS.DurabilityPolicy;
  liveliness = 0 as rclnodejs.QoS.LivelinessPolicy;
  avoidRosNameSpaceConventions = false;
  readonly #reliability: rclnodejs.QoS.ReliabilityPolicy;

  constructor(
    history = 0 as rclnodejs.QoS.HistoryPolicy,
    depth = 0,
    reliability = 0 as rclnodejs.QoS.ReliabilityPolicy,
    durability = 0 as rclnodejs.QoS.DurabilityPolicy,
  ) {
    this.history = history;
    this.depth = depth;
    this.#reliability = reliability;
    this.durability = durability;
  }

  // rclnodejs declares reliability as a method (at run time it is a getter).
  reliability(): rclnodejs.QoS.ReliabilityPolicy {
    return this.#reliability;
  }

  /** Readable summary for assertions, in rmw's words. */
  describe(): { history: string; depth: number; reliability: string; durability: string } {
    const history = ["system_default", "keep_last", "keep_all"][this.history] ?? "?";
    const reliability = ["system_default", "reliable", "best_effort"][this.#reliability] ?? "?";
    const durability = ["system_default", "transient_local", "volatile"][this.durability] ?? "?";
    return { history, depth: this.depth, reliability, durability };
  }
}

export interface RecordedEntity {
  readonly kind: "publisher" | "subscription";
  readonly type: RclMessageTypeName;
  /** Fully qualified after expansion and remapping. */
  readonly topic: string;
  readonly qos: ReturnType<DoubleQoS["describe"]>;
}

export class DoublePublisher<K extends RclMessageTypeName> implements RclPublisher<K> {
  /** Messages as they went out (copied at publish). */
  readonly messages: RclMessage<K>[] = [];
  subscribers = 0;
  constructor(
    private readonly owner: DoubleNode,
    readonly type: K,
    readonly topic: string,
    readonly qos: DoubleQoS,
  ) {}
  publish = (message: RclMessage<K>): void => {
    if (this.owner.destroyed) throw new Error(`publish on ${this.topic} after the node was destroyed`);
    this.messages.push(structuredClone(message));
    this.owner.double.events.push(`publish ${this.topic}`);
  };
  subscriptionCount = (): number => this.subscribers;
  waitForAllAcked = (timeout: bigint): boolean => {
    this.owner.double.events.push(`waitForAllAcked ${this.topic} ${timeout}`);
    return true;
  };
}

export class DoubleSubscription implements RclSubscription {
  constructor(
    readonly type: RclMessageTypeName,
    readonly topic: string,
    readonly qos: DoubleQoS,
    readonly callback: (message: never) => void,
  ) {}
}

export class DoubleTimer implements RclTimer {
  cancelled = false;
  constructor(
    readonly period: bigint,
    readonly callback: () => void,
  ) {}
  cancel = (): void => {
    this.cancelled = true;
  };
}

interface ParsedRosArgs {
  readonly remaps: { readonly node?: string; readonly from: string; readonly to: string }[];
  readonly params: { readonly name: string; readonly value: unknown }[];
  readonly paramsFiles: string[];
}

function parseRosArgs(argv: readonly string[]): ParsedRosArgs {
  const parsed: ParsedRosArgs = { remaps: [], params: [], paramsFiles: [] };
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--ros-args") {
      inRos = true;
      continue;
    }
    if (!inRos) continue;
    if (arg === "--") {
      inRos = false;
      continue;
    }
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`rcl: ${arg} needs an argument`);
      return value;
    };
    if (arg === "-r" || arg === "--remap") {
      const rule = next();
      const match = /^(?:([^:=]+):(?!=))?(.+?):=(.*)$/.exec(rule);
      if (!match) throw new Error(`rcl: cannot parse remap rule "${rule}"`);
      parsed.remaps.push({ ...(match[1] ? { node: match[1] } : {}), from: match[2]!, to: match[3]! });
    } else if (arg === "-p" || arg === "--param") {
      const rule = next();
      const at = rule.indexOf(":=");
      if (at <= 0) throw new Error(`rcl: cannot parse parameter rule "${rule}"`);
      parsed.params.push({ name: rule.slice(0, at), value: parse(rule.slice(at + 2), { intAsBigInt: true }) });
    } else if (arg === "--params-file") {
      parsed.paramsFiles.push(next());
    } else if (arg === "--log-level") {
      next();
    } else {
      throw new Error(`rcl: unknown ROS argument "${arg}"`);
    }
  }
  return parsed;
}

/** A YAML value as rcl types it: integers (bigint here) are INTEGER, other numbers DOUBLE. */
function parameterFromValue(name: string, value: unknown): DoubleParameter {
  if (typeof value === "boolean") return new DoubleParameter(name, BOOL, value);
  if (typeof value === "bigint") return new DoubleParameter(name, INTEGER, value);
  if (typeof value === "number") return new DoubleParameter(name, DOUBLE, value);
  if (typeof value === "string") return new DoubleParameter(name, STRING, value);
  if (Array.isArray(value) && value.length > 0) {
    const first = parameterFromValue(name, value[0]);
    const arrayType = { [BOOL]: BOOL_ARRAY, [INTEGER]: INTEGER_ARRAY, [DOUBLE]: DOUBLE_ARRAY, [STRING]: STRING_ARRAY }[first.type];
    if (arrayType !== undefined) return new DoubleParameter(name, arrayType, value);
  }
  throw new Error(`rcl: cannot type parameter ${name} = ${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))}`);
}

export class DoubleNode implements RclNode {
  readonly publishers: DoublePublisher<RclMessageTypeName>[] = [];
  readonly subscriptions: DoubleSubscription[] = [];
  readonly timers: DoubleTimer[] = [];
  readonly logLines: string[] = [];
  readonly parameters = new Map<string, rclnodejs.Parameter>();
  readonly descriptors = new Map<string, rclnodejs.ParameterDescriptor>();
  readonly #preSet: ((parameters: rclnodejs.Parameter[]) => rclnodejs.Parameter[])[] = [];
  readonly #onSet: ((parameters: rclnodejs.Parameter[]) => RclSetParametersResult)[] = [];
  readonly #name: string;
  readonly #namespace: string;
  destroyed = false;
  spinning = false;

  constructor(
    readonly double: RclDouble,
    nodeName: string,
    namespace = "",
  ) {
    const args = double.rosArgs;
    this.#name = args.remaps.find((r) => r.from === "__node" || r.from === "__name")?.to ?? nodeName;
    const ns = args.remaps.find((r) => r.from === "__ns")?.to ?? namespace;
    this.#namespace = ns === "" ? "/" : ns.startsWith("/") ? ns : `/${ns}`;
    double.nodes.push(this);
    double.events.push(`create node ${this.#namespace === "/" ? "" : this.#namespace}/${this.#name}`);
  }

  name = (): string => this.#name;
  namespace = (): string => this.#namespace;

  getLogger = (): RclLogger => {
    const line = (level: string) => (message: string) => {
      this.logLines.push(`${level} ${message}`);
      return true;
    };
    return { info: line("INFO"), warn: line("WARN"), error: line("ERROR") };
  };

  now = () => {
    const ms = Date.now();
    return { toMsg: () => ({ sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1e6 }) };
  };

  #expand(name: string): string {
    if (name.startsWith("/")) return name;
    const fqn = `${this.#namespace === "/" ? "" : this.#namespace}/${this.#name}`;
    if (name.startsWith("~")) return `${fqn}${name.slice(1)}`;
    return `${this.#namespace === "/" ? "" : this.#namespace}/${name}`;
  }

  resolveTopicName = (topic: string, onlyExpand = false): string => {
    const expanded = this.#expand(topic);
    if (onlyExpand) return expanded;
    for (const rule of this.double.rosArgs.remaps) {
      if (rule.from.startsWith("__") || (rule.node !== undefined && rule.node !== this.#name)) continue;
      if (this.#expand(rule.from) === expanded) return this.#expand(rule.to);
    }
    return expanded;
  };

  #qosOf(options: { qos?: rclnodejs.QoS | string } | undefined): DoubleQoS {
    const qos = options?.qos;
    if (!(qos instanceof DoubleQoS)) throw new Error("the double records QoS objects only; the node must pass one");
    return qos;
  }

  createPublisher = <K extends RclMessageTypeName>(typeClass: K, topic: string, options?: rclnodejs.Options<rclnodejs.QoS>): RclPublisher<K> => {
    this.#checkAlive();
    if (this.double.unavailableTypes.has(typeClass)) {
      throw new Error(`The message required does not exist: ${typeClass}`);
    }
    const publisher = new DoublePublisher(this, typeClass, this.resolveTopicName(topic), this.#qosOf(options));
    this.publishers.push(publisher as unknown as DoublePublisher<RclMessageTypeName>);
    this.double.events.push(`create publisher ${publisher.topic}`);
    return publisher;
  };

  createSubscription = <K extends RclMessageTypeName>(
    typeClass: K,
    topic: string,
    options: rclnodejs.Options<rclnodejs.QoS>,
    callback: (message: RclMessage<K>) => void,
  ): RclSubscription => {
    this.#checkAlive();
    const subscription = new DoubleSubscription(typeClass, this.resolveTopicName(topic), this.#qosOf(options), callback as (message: never) => void);
    this.subscriptions.push(subscription);
    this.double.events.push(`create subscription ${subscription.topic}`);
    return subscription;
  };

  createTimer = (period: bigint, callback: () => void): RclTimer => {
    this.#checkAlive();
    const timer = new DoubleTimer(period, callback);
    this.timers.push(timer);
    return timer;
  };

  getParameterOverrides = (): rclnodejs.Parameter[] => {
    const overrides: Record<string, unknown> = {};
    for (const file of this.double.rosArgs.paramsFiles) {
      const doc = parse(readFileSync(file, "utf8"), { intAsBigInt: true }) as Record<string, { ros__parameters?: Record<string, unknown> }>;
      // rclnodejs (lib/node.js _getNativeParameterOverrides) takes "/**", then the section whose
      // key equals the bare node name; never a fully qualified one.
      for (const key of ["/**", this.#name]) {
        const section = doc[key]?.ros__parameters;
        if (section) flatten(section, "", overrides);
      }
    }
    for (const { name, value } of this.double.rosArgs.params) overrides[name] = value;
    return Object.entries(overrides).map(([name, value]) => parameterFromValue(name, value));
  };

  declareParameters = (
    parameters: rclnodejs.Parameter[],
    descriptors: rclnodejs.ParameterDescriptor[] = [],
    ignoreOverrides = false,
  ): rclnodejs.Parameter[] => {
    if (descriptors.length > 0 && descriptors.length !== parameters.length) throw new Error("Each parameter must have a corresponding ParameterDescriptor");
    const overrides = new Map(this.getParameterOverrides().map((p) => [p.name, p]));
    const declared = parameters.map((p) => (!ignoreOverrides && overrides.get(p.name)) || p);
    for (const p of declared) if (this.parameters.has(p.name)) throw new Error(`Parameter(${p.name}) already declared.`);
    declared.forEach((p, i) => {
      const descriptor = descriptors[i] ?? new DoubleParameterDescriptor(p.name, p.type);
      descriptor.validate();
      this.descriptors.set(p.name, descriptor);
    });
    const result = this.#setAtomically(declared, true);
    if (!result.successful) {
      for (const p of declared) this.descriptors.delete(p.name);
      throw new Error(result.reason);
    }
    return declared;
  };

  addOnSetParametersCallback = (callback: (parameters: rclnodejs.Parameter[]) => RclSetParametersResult): void => {
    this.#onSet.unshift(callback);
  };

  addPreSetParametersCallback = (callback: (parameters: rclnodejs.Parameter[]) => rclnodejs.Parameter[]): void => {
    this.#preSet.push(callback);
  };

  /** What `ros2 param set` ends in (the parameter service calls setParameters). */
  setParameter(parameter: rclnodejs.Parameter): RclSetParametersResult {
    return this.#setAtomically([parameter], false);
  }

  #setAtomically(input: rclnodejs.Parameter[], declaring: boolean): RclSetParametersResult {
    let parameters = input;
    for (const callback of this.#preSet) {
      parameters = callback(parameters);
      if (parameters.length === 0) return { successful: false, reason: "parameter list is empty after pre-set callback; set rejected" };
    }
    for (const parameter of parameters) {
      try {
        parameter.validate();
      } catch {
        return { successful: false, reason: `Invalid ${parameter.name}` };
      }
      const descriptor = this.descriptors.get(parameter.name);
      if (!descriptor) return { successful: false, reason: `Parameter ${parameter.name} has not been declared` };
      if (!declaring && descriptor.readOnly) return { successful: false, reason: `Parameter ${parameter.name} is readonly` };
      try {
        descriptor.validateParameter(parameter);
      } catch (error) {
        return { successful: false, reason: (error as Error).message };
      }
    }
    for (const callback of this.#onSet) {
      const result = callback(parameters);
      if (!result.successful) return result;
    }
    for (const parameter of parameters) this.parameters.set(parameter.name, parameter);
    return { successful: true, reason: "" };
  }

  spin = (): void => {
    this.spinning = true;
  };

  destroy = (): void => {
    this.destroyed = true;
    this.spinning = false;
    this.double.events.push("destroy node");
  };

  #checkAlive(): void {
    if (this.destroyed) throw new Error("node destroyed");
  }

  // Test helpers.

  publisher<K extends RclMessageTypeName>(topic: string): DoublePublisher<K> {
    const found = this.publishers.find((p) => p.topic === topic);
    if (!found) throw new Error(`no publisher on ${topic}; have ${this.publishers.map((p) => p.topic).join(", ")}`);
    return found as unknown as DoublePublisher<K>;
  }

  subscription(topic: string): DoubleSubscription {
    const found = this.subscriptions.find((s) => s.topic === topic);
    if (!found) throw new Error(`no subscription on ${topic}; have ${this.subscriptions.map((s) => s.topic).join(", ")}`);
    return found;
  }

  /** Delivers a message as the executor would: to the subscription's callback. */
  deliver<K extends RclMessageTypeName>(topic: string, message: RclMessage<K>): void {
    if (!this.spinning) throw new Error("the node is not spinning: nothing would be delivered");
    (this.subscription(topic).callback as (message: RclMessage<K>) => void)(message);
  }
}

export class RclDouble implements RclModule {
  readonly events: string[] = [];
  readonly nodes: DoubleNode[] = [];
  /** Types whose interfaces "are not generated" (createPublisher throws, as rclnodejs does). */
  readonly unavailableTypes = new Set<string>();
  rosArgs: ParsedRosArgs = { remaps: [], params: [], paramsFiles: [] };
  signalHandlersRemoved = false;
  #shutdown = false;

  init = async (_context?: rclnodejs.Context, argv?: string[]): Promise<void> => {
    this.rosArgs = parseRosArgs(argv ?? []);
    this.events.push("init");
  };

  readonly Node: new (nodeName: string, namespace?: string) => DoubleNode;
  readonly QoS = DoubleQoS;
  readonly Parameter = DoubleParameter;
  readonly ParameterDescriptor = DoubleParameterDescriptor;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the node class needs its module
    const double = this;
    this.Node = class extends DoubleNode {
      constructor(nodeName: string, namespace?: string) {
        super(double, nodeName, namespace);
      }
    };
  }

  removeSignalHandlers = (): void => {
    this.signalHandlersRemoved = true;
  };

  shutdown = (): void => {
    this.#shutdown = true;
    this.events.push("shutdown");
  };

  isShutdown = (): boolean => this.#shutdown;

  get node(): DoubleNode {
    const node = this.nodes[0];
    if (!node) throw new Error("no node created");
    return node;
  }
}
