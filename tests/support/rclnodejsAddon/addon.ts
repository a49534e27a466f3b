// A stand-in for rclnodejs 2.2.0's native addon (rclnodejs.node), for running rclnodejs's own
// JavaScript (its dist/ and lib/, its generated message classes) where no ROS 2 is installed.
//
// Only the addon is replaced: every function here is one that rclnodejs's src/*.cpp exports and
// its JavaScript calls on the paths a node like ours takes. Each follows the C++ binding it
// replaces (file named beside it) and the rcl/rmw behaviour behind it; docs/ros.md lists them.
// Anything else throws "not implemented by the stand-in", so a new call shows up at once instead
// of doing nothing. What it cannot show: DDS discovery and timing across processes, shared
// memory, real middleware QoS beyond reliability/durability matching and keep-last depth.

import { createRequire } from "node:module";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Graph, type PublisherEndpoint, type QosProfile, type SubscriptionEndpoint } from "./graph.js";
import { Heap, refBindings } from "./memory.js";
import { expandTopicName, parseRosArguments, remapName, remapNode, validateFullTopicName, type RclParams, type RosArguments } from "./rosArgs.js";

/** src/rcl_handle.cpp: a JS object owning one rcl entity; `release` frees it. */
class RclHandle {
  released = false;
  #properties: Record<string, boolean> | undefined;
  constructor(
    readonly kind: string,
    readonly onRelease: () => void = () => {},
  ) {}
  release(): void {
    if (!this.released) this.onRelease();
    this.released = true;
  }
  dismiss(): void {
    this.released = true;
  }
  get properties(): Record<string, boolean> | undefined {
    return this.#properties;
  }
}

interface ContextState {
  readonly handle: RclHandle;
  valid: boolean;
  args: RosArguments;
  readonly domainId: number;
}

interface NodeState {
  readonly handle: RclHandle;
  readonly context: ContextState;
  readonly name: string;
  readonly ns: string;
  readonly args: RosArguments;
}

interface PublisherState {
  readonly handle: RclHandle;
  readonly node: NodeState;
  readonly endpoint: PublisherEndpoint;
  readonly typeClass: MessageClass;
}

interface SubscriptionState {
  readonly handle: RclHandle;
  readonly node: NodeState;
  readonly endpoint: SubscriptionEndpoint;
  readonly typeClass: MessageClass;
  /** The struct a take was filled from: its strings and arrays must outlive the take. */
  lastTaken?: unknown;
}

interface TimerState {
  readonly handle: RclHandle;
  readonly clock: ClockState;
  period: bigint;
  nextCall: bigint;
  lastCall: bigint;
  canceled: boolean;
}

interface ClockState {
  readonly handle: RclHandle;
  readonly type: number;
  /** rcl_enable_ros_time_override / rcl_set_ros_time_override: separate switch and value. */
  overrideEnabled: boolean;
  overrideValue: bigint;
}

/** A class rclnodejs generates for a message (rosidl_gen/templates/message-template.cjs). */
interface MessageClass {
  new (init?: unknown): MessageInstance;
  readonly refObjectType: { new (buffer?: Uint8Array): unknown; readonly size: number };
}
interface MessageInstance {
  deserialize(refObject: unknown): void;
  toPlainObject(enableTypedArray?: boolean): unknown;
  serialize(): Uint8Array;
}

export interface LogRecord {
  readonly name: string;
  readonly severity: number;
  readonly message: string;
}

export interface AddonStandIn {
  readonly exports: Record<string, unknown>;
  readonly graph: Graph;
  readonly log: LogRecord[];
  /** Native calls made, by function name (a test can check which paths ran). */
  readonly calls: Map<string, number>;
  /** What happened, in order: `publish <topic>`, `waitForAllAcked <topic> <ns>`, `destroy node <fqn>`, `shutdown`. */
  readonly events: string[];
}

const steadyNow = (): bigint => process.hrtime.bigint();
const systemNow = (): bigint => BigInt(Date.now()) * 1_000_000n;

/**
 * Builds the stand-in. `packageDir` is the rclnodejs package (its generated/ classes are loaded
 * from there); the .msg files are found under AMENT_PREFIX_PATH, as a sourced ROS 2 finds them.
 */
export function createAddonStandIn(packageDir: string): AddonStandIn {
  const heap = new Heap();
  const ref = refBindings(heap);
  const graph = new Graph(() => (process.env["AMENT_PREFIX_PATH"] ?? "").split(":").filter(Boolean));
  const log: LogRecord[] = [];
  const calls = new Map<string, number>();
  const events: string[] = [];
  const require = createRequire(join(packageDir, "package.json"));

  const contexts = new Map<RclHandle, ContextState>();
  const nodes = new Map<RclHandle, NodeState>();
  const publishers = new Map<RclHandle, PublisherState>();
  const subscriptions = new Map<RclHandle, SubscriptionState>();
  const timers = new Map<RclHandle, TimerState>();
  const clocks = new Map<RclHandle, ClockState>();
  const spinning = new Set<ShadowNodeLike>();
  const loggerLevels = new Map<string, number>();

  const state = <T>(map: Map<RclHandle, T>, handle: unknown, what: string): T => {
    const found = map.get(handle as RclHandle);
    if (!found) throw new TypeError(`${what}: not a live handle`);
    if ((handle as RclHandle).released) throw new Error(`${what}: the handle was released`);
    return found;
  };
  const messageClass = (pkg: string, subFolder: string, name: string): MessageClass => {
    const file = join(packageDir, "generated", pkg, `${pkg}__${subFolder}__${name}.js`);
    if (!existsSync(file)) throw new Error(`Failed to find type support for ${pkg}/${subFolder}/${name}`);
    return require(file) as MessageClass;
  };
  /** rcl_*_get_default_options QoS when rclnodejs passes none. */
  const qosFrom = (qos: unknown): QosProfile => {
    if (typeof qos === "string" || qos === undefined || qos === null) {
      // rcl_utilities.cpp GetQoSProfileFromString; sensor data is the one we may see.
      if (qos === "qos_profile_sensor_data") return { history: 1, depth: 5, reliability: 2, durability: 2 };
      if (qos === "qos_profile_parameter_events") return { history: 1, depth: 1000, reliability: 1, durability: 2 };
      if (qos === "qos_profile_parameters" || qos === "qos_profile_services_default") return { history: 1, depth: qos === "qos_profile_parameters" ? 1000 : 10, reliability: 1, durability: 2 };
      return { history: 1, depth: 10, reliability: 1, durability: 2 };
    }
    // GetQosProfileFromObject reads these as numbers; anything else is a bug in the caller.
    const o = qos as Record<string, unknown>;
    for (const key of ["history", "depth", "reliability", "durability", "liveliness"]) {
      if (typeof o[key] !== "number") throw new TypeError(`QoS.${key} must be a number, got ${typeof o[key]}`);
    }
    return { history: o["history"] as number, depth: o["depth"] as number, reliability: o["reliability"] as number, durability: o["durability"] as number };
  };
  const resolve = (node: NodeState, topic: string, onlyExpand = false): string => {
    const expanded = expandTopicName(topic, node.name, node.ns);
    return onlyExpand ? expanded : remapName(expanded, [...node.args.remaps, ...node.context.args.remaps], node.name, node.ns);
  };
  const fqn = (node: NodeState): string => (node.ns === "/" ? `/${node.name}` : `${node.ns}/${node.name}`);

  /** Node Buffer of a struct (`info[1].As<Napi::Buffer<char>>()` in the bindings); anything else is a caller bug. */
  const structBuffer = (typeClass: MessageClass, raw: unknown, what: string): Uint8Array => {
    if (!(raw instanceof Uint8Array)) throw new TypeError(`${what}: expected the message's struct Buffer`);
    if (raw.byteLength < typeClass.refObjectType.size) throw new TypeError(`${what}: struct Buffer of ${raw.byteLength} bytes, the type needs ${typeClass.refObjectType.size}`);
    return raw;
  };
  /** Reads the C struct rclnodejs wrote (rcl_publish's `ros_message`) as the plain object it holds. */
  const readMessage = (typeClass: MessageClass, raw: unknown): unknown => {
    const bytes = structBuffer(typeClass, raw, "publish");
    const struct = new typeClass.refObjectType(Buffer.from(bytes.buffer, bytes.byteOffset, typeClass.refObjectType.size));
    const message = new typeClass();
    message.deserialize(struct);
    return message.toPlainObject(true);
  };
  /** Fills the struct rclnodejs passed to rcl_take from a plain object, as rmw deserialises into it. */
  const writeMessage = (typeClass: MessageClass, raw: unknown, plain: unknown): unknown => {
    const target = structBuffer(typeClass, raw, "rclTake");
    // The generated classes copy a typed array's whole ArrayBuffer (`Buffer.from(new
    // Uint8Array(x.buffer))` in freeze), so sequences are handed over in buffers of their own,
    // as rmw would allocate them; the CDR reader returns views into the received bytes.
    const filled = new typeClass(withOwnBuffers(plain));
    const source = filled.serialize();
    target.set(source.subarray(0, typeClass.refObjectType.size));
    // The struct's strings and sequences point into `filled`'s memory: keep it alive.
    return { filled, source };
  };

  // --- the executor (src/executor.cpp, src/shadow_node.cpp) -------------------------------
  interface ShadowNodeLike {
    execute(handles: RclHandle[]): void;
    _subscriptions?: { handle: RclHandle }[];
    _timers?: { handle: RclHandle }[];
  }
  let scheduled = false;
  let timerWake: NodeJS.Timeout | undefined;
  const readyHandles = (node: ShadowNodeLike): RclHandle[] => {
    const ready: RclHandle[] = [];
    for (const sub of node._subscriptions ?? []) {
      const s = subscriptions.get(sub.handle);
      if (s && !sub.handle.released && s.endpoint.queue.length > 0) ready.push(sub.handle);
    }
    for (const timer of node._timers ?? []) {
      const t = timers.get(timer.handle);
      if (t && !timer.handle.released && !t.canceled && t.nextCall <= clockNow(t.clock)) ready.push(timer.handle);
    }
    return ready;
  };
  const dispatch = (): void => {
    scheduled = false;
    let again = false;
    for (const node of [...spinning]) {
      if (!spinning.has(node)) continue;
      const ready = readyHandles(node);
      if (ready.length === 0) continue;
      node.execute(ready);
      if (readyHandles(node).length > 0) again = true;
    }
    if (again) schedule();
    armTimerWake();
  };
  const schedule = (): void => {
    if (scheduled || spinning.size === 0) return;
    scheduled = true;
    setImmediate(dispatch);
  };
  const armTimerWake = (): void => {
    if (timerWake) clearTimeout(timerWake);
    timerWake = undefined;
    let delayNs: bigint | undefined;
    for (const node of spinning) {
      for (const timer of node._timers ?? []) {
        const t = timers.get(timer.handle);
        if (!t || t.canceled || timer.handle.released) continue;
        const left = t.nextCall - clockNow(t.clock);
        if (delayNs === undefined || left < delayNs) delayNs = left;
      }
    }
    if (delayNs === undefined) return;
    const delayMs = Math.max(0, Number(delayNs) / 1e6);
    timerWake = setTimeout(schedule, delayMs);
    timerWake.unref();
  };
  graph.onReady = schedule;

  class ShadowNode {
    start(this: ShadowNodeLike, _context: unknown, _timeout: number): void {
      spinning.add(this);
      schedule();
      armTimerWake();
    }
    stop(this: ShadowNodeLike): void {
      spinning.delete(this);
      armTimerWake();
    }
    syncHandles(): void {
      // The stand-in reads the node's entity arrays on every wake; nothing to copy.
    }
    spinOnce(this: ShadowNodeLike): void {
      const ready = readyHandles(this);
      if (ready.length > 0) setImmediate(() => this.execute(ready));
    }
  }

  const functions: Record<string, unknown> = {
    ref,
    ShadowNode,
    RclHandle,

    // src/rcl_lifecycle_bindings.cpp: read when lib/lifecycle.js loads (rcl_lifecycle_shutdown_label).
    getLifecycleShutdownTransitionLabel: () => "shutdown",

    // src/rcl_context_bindings.cpp
    createContext: () => {
      const handle = new RclHandle("context");
      contexts.set(handle, { handle, valid: false, args: { remaps: [], params: new Map(), unparsed: [] }, domainId: 0 });
      return handle;
    },
    init: (context: RclHandle, argv: string[], domainId?: bigint) => {
      const c = state(contexts, context, "init");
      const args = parseRosArguments(argv);
      if (args.unparsed.length > 0) throw new Error(`Unknown ROS arguments: [${args.unparsed.map((a) => `'${a}'`).join(", ")}]`);
      contexts.set(context, { ...c, args, valid: true, domainId: domainId === undefined ? 0 : Number(domainId) });
    },
    isContextValid: (context: RclHandle) => state(contexts, context, "isContextValid").valid,
    shutdown: (context: RclHandle) => {
      const c = state(contexts, context, "shutdown");
      if (!c.valid) throw new Error("rcl_shutdown already called on the given context");
      c.valid = false;
      events.push("shutdown");
    },
    getDomainId: (context: RclHandle) => state(contexts, context, "getDomainId").domainId,

    // src/rcl_utilities.cpp RemoveROSArgs (rcl_remove_ros_arguments)
    removeROSArgs: (argv: string[]) => {
      const out: string[] = [];
      let inRos = false;
      for (const arg of argv) {
        if (arg === "--ros-args") inRos = true;
        else if (arg === "--" && inRos) inRos = false;
        else if (!inRos) out.push(arg);
      }
      return out;
    },

    // src/rcl_node_bindings.cpp
    createNode: (name: string, namespace: string, context: RclHandle, argv: string[], useGlobal: boolean) => {
      const c = state(contexts, context, "createNode");
      if (!c.valid) throw new Error("the given context is not valid, either rcl_init() was not called or rcl_shutdown() was called.");
      const local = parseRosArguments(argv);
      if (local.unparsed.length > 0) throw new Error(`Unknown ROS arguments: [${local.unparsed.map((a) => `'${a}'`).join(", ")}]`);
      const rules = [...local.remaps, ...(useGlobal ? c.args.remaps : [])];
      const remapped = remapNode(rules, name, namespace);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(remapped.name)) throw new Error(`node name "${remapped.name}" is invalid`);
      if (remapped.ns !== "/") validateFullTopicName(remapped.ns);
      const fullName = remapped.ns === "/" ? `/${remapped.name}` : `${remapped.ns}/${remapped.name}`;
      const handle = new RclHandle("node", () => {
        events.push(`destroy node ${fullName}`);
        // rcl_node_fini: the node's endpoints leave the graph.
        for (const [h, p] of publishers) if (p.node.handle === handle) { graph.publishers.delete(p.endpoint); publishers.delete(h); }
        for (const [h, sub] of subscriptions) if (sub.node.handle === handle) { graph.subscriptions.delete(sub.endpoint); subscriptions.delete(h); }
      });
      nodes.set(handle, { handle, context: c, name: remapped.name, ns: remapped.ns, args: local });
      return handle;
    },
    getNodeName: (node: RclHandle) => state(nodes, node, "getNodeName").name,
    getNamespace: (node: RclHandle) => state(nodes, node, "getNamespace").ns,
    getFullyQualifiedName: (node: RclHandle) => fqn(state(nodes, node, "getFullyQualifiedName")),
    // rcl_node_get_logger_name: namespace and name joined by dots, without the leading slash.
    getNodeLoggerName: (node: RclHandle) => fqn(state(nodes, node, "getNodeLoggerName")).slice(1).replaceAll("/", "."),
    getParameterOverrides: (context: RclHandle) => wrapParameters(state(contexts, context, "getParameterOverrides").args.params),
    getRMWImplementationIdentifier: () => "rmw_depthseg_standin",
    resolveName: (node: RclHandle, topic: string, onlyExpand: boolean, _isService: boolean) => resolve(state(nodes, node, "resolveName"), topic, onlyExpand),
    expandTopicName: (topic: string, name: string, ns: string) => expandTopicName(topic, name, ns),
    remapTopicName: (node: RclHandle, topic: string) => resolve(state(nodes, node, "remapTopicName"), topic),
    initRosoutPublisherForNode: () => undefined,
    finiRosoutPublisherForNode: () => undefined,
    countPublishers: (_node: RclHandle, topic: string) => [...graph.publishers].filter((p) => p.topic === topic).length,
    countSubscribers: (_node: RclHandle, topic: string) => [...graph.subscriptions].filter((s) => s.topic === topic).length,

    // src/rcl_names_bindings.cpp (rmw validators)
    validateFullTopicName: (topic: string) => {
      validateFullTopicName(topic);
      return null;
    },
    validateTopicName: (topic: string) => {
      expandTopicName(topic, "node", "/");
      return null;
    },
    validateNodeName: (name: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? null : ["node name is invalid", 0]),
    validateNamespace: (ns: string) => {
      if (ns !== "/") validateFullTopicName(ns);
      return null;
    },

    // src/rcl_publisher_bindings.cpp
    createPublisher: (node: RclHandle, pkg: string, subFolder: string, name: string, topic: string, qos: unknown) => {
      const n = state(nodes, node, "createPublisher");
      const typeClass = messageClass(pkg, subFolder, name);
      const endpoint = graph.addPublisher({ node: fqn(n), topic: resolve(n, topic), type: `${pkg}/${subFolder}/${name}`, qos: qosFrom(qos) });
      const handle = new RclHandle("publisher");
      publishers.set(handle, { handle, node: n, endpoint, typeClass });
      return handle;
    },
    publish: (publisher: RclHandle, rawMessage: Uint8Array) => {
      const p = state(publishers, publisher, "publish");
      events.push(`publish ${p.endpoint.topic}`);
      graph.publish(p.endpoint, readMessage(p.typeClass, rawMessage));
    },
    getPublisherTopic: (publisher: RclHandle) => state(publishers, publisher, "getPublisherTopic").endpoint.topic,
    getSubscriptionCount: (publisher: RclHandle) => graph.matchedSubscriptions(state(publishers, publisher, "getSubscriptionCount").endpoint),
    // rmw_publisher_wait_for_all_acked: in-process delivery is complete when publish returns.
    waitForAllAcked: (publisher: RclHandle, timeout: bigint) => {
      events.push(`waitForAllAcked ${state(publishers, publisher, "waitForAllAcked").endpoint.topic} ${timeout}`);
      return true;
    },

    // src/rcl_subscription_bindings.cpp
    createSubscription: (node: RclHandle, pkg: string, subFolder: string, name: string, topic: string, options: { qos?: unknown }) => {
      const n = state(nodes, node, "createSubscription");
      const typeClass = messageClass(pkg, subFolder, name);
      const endpoint = graph.addSubscription({ node: fqn(n), topic: resolve(n, topic), type: `${pkg}/${subFolder}/${name}`, qos: qosFrom(options.qos) });
      const handle = new RclHandle("subscription");
      subscriptions.set(handle, { handle, node: n, endpoint, typeClass });
      if (endpoint.queue.length > 0) schedule();
      return handle;
    },
    getSubscriptionTopic: (subscription: RclHandle) => state(subscriptions, subscription, "getSubscriptionTopic").endpoint.topic,
    getPublisherCount: (subscription: RclHandle) => graph.matchedPublishers(state(subscriptions, subscription, "getPublisherCount").endpoint),
    // src/rcl_bindings.cpp RclTake: rcl_take into the struct the raw message points at.
    rclTake: (subscription: RclHandle, rawMessage: Uint8Array) => {
      const s = state(subscriptions, subscription, "rclTake");
      const bytes = s.endpoint.queue.shift();
      if (!bytes) return false;
      s.lastTaken = writeMessage(s.typeClass, rawMessage, graph.decode(s.endpoint.type, bytes));
      return true;
    },

    // src/rcl_service_bindings.cpp: services are created (parameter services); requests need a
    // client, which the stand-in does not provide, so none ever arrives.
    createService: (node: RclHandle) => {
      state(nodes, node, "createService");
      return new RclHandle("service");
    },
    getServiceServiceName: () => "",
    // src/rcl_type_description_service_bindings.cpp: rcl_node_type_description_service_init (Jazzy+).
    initTypeDescriptionService: (node: RclHandle) => {
      state(nodes, node, "initTypeDescriptionService");
      return new RclHandle("service");
    },

    // src/rcl_timer_bindings.cpp (rcl_timer_*), steady or system time from the timer's clock.
    createTimer: (clock: RclHandle, _context: RclHandle, period: bigint, autostart = true) => {
      const c = state(clocks, clock, "createTimer");
      const now = clockNow(c);
      const handle = new RclHandle("timer");
      timers.set(handle, { handle, clock: c, period: BigInt(period), nextCall: autostart ? now + BigInt(period) : now + BigInt(period), lastCall: now, canceled: !autostart });
      armTimerWake();
      return handle;
    },
    isTimerReady: (timer: RclHandle) => {
      const t = state(timers, timer, "isTimerReady");
      return !t.canceled && t.nextCall <= clockNow(t.clock);
    },
    callTimer: (timer: RclHandle) => {
      callTimer(state(timers, timer, "callTimer"));
    },
    callTimerWithInfo: (timer: RclHandle) => {
      const t = state(timers, timer, "callTimerWithInfo");
      const expected = t.nextCall;
      const actual = callTimer(t);
      return { expectedCallTime: expected, actualCallTime: actual };
    },
    cancelTimer: (timer: RclHandle) => {
      state(timers, timer, "cancelTimer").canceled = true;
      armTimerWake();
    },
    isTimerCanceled: (timer: RclHandle) => state(timers, timer, "isTimerCanceled").canceled,
    resetTimer: (timer: RclHandle) => {
      const t = state(timers, timer, "resetTimer");
      t.canceled = false;
      t.nextCall = clockNow(t.clock) + t.period;
      armTimerWake();
    },
    getTimerPeriod: (timer: RclHandle) => state(timers, timer, "getTimerPeriod").period,

    // src/rcl_time_point_bindings.cpp, clock: rcl_clock_t of RCL_ROS_TIME (1), SYSTEM (2), STEADY (3).
    createClock: (type: number) => {
      const handle = new RclHandle("clock");
      clocks.set(handle, { handle, type, overrideEnabled: false, overrideValue: 0n });
      return handle;
    },
    clockGetNow: (clock: RclHandle) => clockNow(state(clocks, clock, "clockGetNow")),
    getRosTimeOverrideIsEnabled: (clock: RclHandle) => state(clocks, clock, "getRosTimeOverrideIsEnabled").overrideEnabled,
    setRosTimeOverrideIsEnabled: (clock: RclHandle, enabled: boolean) => {
      state(clocks, clock, "setRosTimeOverrideIsEnabled").overrideEnabled = enabled;
    },
    setRosTimeOverride: (clock: RclHandle, time: RclHandle & { ns: bigint }) => {
      state(clocks, clock, "setRosTimeOverride").overrideValue = time.ns;
    },
    clockAddJumpCallback: () => undefined,
    clockRemoveJumpCallback: () => undefined,
    createTimePoint: (nanoseconds: string | bigint, clockType: number) => {
      const handle = new RclHandle("time_point") as RclHandle & { ns: bigint; clockType: number };
      handle.ns = BigInt(nanoseconds);
      handle.clockType = clockType;
      return handle;
    },
    getNanoseconds: (timePoint: RclHandle & { ns: bigint }) => timePoint.ns,
    createDuration: (nanoseconds: string | bigint) => {
      const handle = new RclHandle("duration") as RclHandle & { ns: bigint };
      handle.ns = BigInt(nanoseconds);
      return handle;
    },
    getDurationNanoseconds: (duration: RclHandle & { ns: bigint }) => duration.ns,

    // src/rcl_logging_bindings.cpp (rcutils logging): records what would reach the console.
    loggingConfigure: () => undefined,
    loggingFini: () => undefined,
    setLoggerLevel: (name: string, level: number) => {
      loggerLevels.set(name, level);
    },
    getLoggerEffectiveLevel: (name: string) => loggerLevels.get(name) ?? 20,
    log: (name: string, severity: number, message: string) => {
      const enabled = severity >= (loggerLevels.get(name) ?? 20);
      if (enabled) log.push({ name, severity, message });
      return enabled;
    },
    addRosoutSublogger: () => true,
    removeRosoutSublogger: () => undefined,

    // src/rcl_bindings.cpp: memory helpers of the generated message classes.
    initString: (buffer: Uint8Array) => {
      // rosidl_runtime_c__String__init: data = "" (1 byte), size 0, capacity 1.
      const data = Buffer.alloc(1);
      const view = new DataView(buffer.buffer, buffer.byteOffset, 24);
      view.setBigUint64(0, BigInt(heap.addressOf(data)), true);
      view.setBigUint64(8, 0n, true);
      view.setBigUint64(16, 1n, true);
      keepAlive.set(buffer, data);
    },
    // free() in C; here the memory is the garbage collector's.
    freeMemeoryAtOffset: () => undefined,
    createArrayBufferFromAddress: (hexAddress: string, length: number) => {
      const address = Number.parseInt(hexAddress, 16);
      const whole = heap.allocationAt(address);
      // Takes ownership of the allocation (zero copy) when it is exactly that allocation.
      if (whole && whole.byteLength === length) return whole;
      return heap.view(address, length).slice().buffer;
    },
    createArrayBufferCleaner: () => new RclHandle("array_buffer_cleaner"),
  };
  const keepAlive = new WeakMap<object, object>();

  function clockNow(clock: ClockState): bigint {
    if (clock.type === 3) return steadyNow();
    if (clock.type === 1 && clock.overrideEnabled) return clock.overrideValue;
    return systemNow();
  }

  function callTimer(t: TimerState): bigint {
    const now = clockNow(t.clock);
    t.lastCall = now;
    // rcl_timer_call: the next call is a whole number of periods after the last one.
    const periods = t.period > 0n ? (now - t.nextCall) / t.period + 1n : 1n;
    t.nextCall += periods * t.period;
    armTimerWake();
    return now;
  }

  const exports = new Proxy(functions, {
    get(target, key) {
      if (typeof key === "symbol" || key === "then" || key === "__esModule" || key === "default") return target[key as string];
      const value = target[key];
      if (value === undefined) {
        return () => {
          throw new Error(`rclnodejs.node stand-in: ${key} is not implemented by the stand-in (tests/support/rclnodejsAddon)`);
        };
      }
      if (typeof value === "function" && key !== "ShadowNode" && key !== "RclHandle") {
        return (...args: unknown[]) => {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      }
      return value;
    },
  });

  return { exports, graph, log, calls, events };
}

function withOwnBuffers(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return (value as unknown as { slice(): unknown }).slice();
  if (Array.isArray(value)) return value.map(withOwnBuffers);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withOwnBuffers(item)]));
  }
  return value;
}

/** rcl_node_bindings.cpp wrapParameters: [{ name: node key as written, parameters: [{name, type, value}] }]. */
function wrapParameters(params: RclParams): unknown {
  if (params.size === 0) return undefined;
  const typeIds = { bool: 1, integer: 2, double: 3, string: 4, bool_array: 6, integer_array: 7, double_array: 8, string_array: 9 } as const;
  return [...params].map(([name, values]) => ({
    name,
    parameters: [...values].map(([param, variant]) => ({ name: param, type: typeIds[variant.type], value: variant.value })),
  }));
}

/**
 * Makes `require` of rclnodejs.node (and of any prebuilt .node in the package) return the
 * stand-in instead of dlopen-ing a native library. Call before rclnodejs is loaded.
 */
export function installAddonStandIn(packageDir: string, standIn: AddonStandIn): void {
  const addonPath = join(packageDir, "build", "Release", "rclnodejs.node");
  if (!existsSync(addonPath)) {
    mkdirSync(dirname(addonPath), { recursive: true });
    // `bindings` looks for this file; its content is never loaded.
    writeFileSync(addonPath, "");
  }
  const Module = createRequire(import.meta.url)("node:module") as { _extensions: Record<string, (module: { exports: unknown }, filename: string) => void> };
  const original = Module._extensions[".node"]!;
  Module._extensions[".node"] = (module, filename) => {
    if (filename.startsWith(packageDir)) {
      module.exports = standIn.exports;
      return;
    }
    original(module, filename);
  };
}
