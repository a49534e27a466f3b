// The part of the rclnodejs API the live node uses, as narrow types derived from rclnodejs's own
// declarations. The node is written against these, so contract tests can drive it through a test
// double; the `Conforms` checks at the bottom prove, at compile time and against the real
// declarations (tsconfig `paths` → .rclnodejs-types), that the real rclnodejs module fits them.
// Members are function-typed properties, not methods, so parameter types are checked strictly.
//
// Where rclnodejs's declarations disagree with its JavaScript, the JavaScript wins and the
// port says so: rclnodejs 2.2.0's types/publisher.d.ts declares `subscriptionCount(): number`,
// but lib/publisher.js defines `get subscriptionCount()`; calling it as a method throws
// "publisher.subscriptionCount is not a function" on a robot. (The same holds for
// Subscription.publisherCount, Timer.timerPeriod and QoS.reliability, which the node does not use.)

import type * as rclnodejs from "rclnodejs";

/** The message types the node subscribes to or publishes, by their rclnodejs type class name. */
export type RclMessageTypeName =
  | "sensor_msgs/msg/Image"
  | "sensor_msgs/msg/CompressedImage"
  | "sensor_msgs/msg/CameraInfo"
  | "sensor_msgs/msg/PointCloud2"
  | "tf2_msgs/msg/TFMessage"
  | "vision_msgs/msg/LabelInfo"
  | "diagnostic_msgs/msg/DiagnosticArray"
  | "depthseg/msg/PerceptionStatus";

export type RclMessage<K extends RclMessageTypeName> = rclnodejs.MessageType<K>;

export type RclQoS = rclnodejs.QoS;
export type RclOptions = rclnodejs.Options<rclnodejs.QoS>;

export interface RclPublisher<K extends RclMessageTypeName> {
  readonly topic: string;
  readonly publish: (message: RclMessage<K>) => void;
  /** Matched subscriptions (a getter in lib/publisher.js, whatever types/publisher.d.ts says). */
  readonly subscriptionCount: number;
  /** Blocks up to `timeout` nanoseconds until reliable subscribers acknowledged everything. */
  readonly waitForAllAcked: (timeout: bigint) => boolean;
}

export interface RclSubscription {
  readonly topic: string;
}

export interface RclTimer {
  readonly cancel: () => void;
}

export interface RclLogger {
  readonly info: (message: string) => boolean;
  readonly warn: (message: string) => boolean;
  readonly error: (message: string) => boolean;
}

export type RclParameter = Pick<rclnodejs.Parameter, "name" | "type" | "value">;
export type RclParameterDescriptor = Pick<
  rclnodejs.ParameterDescriptor,
  "name" | "type" | "description" | "readOnly" | "additionalConstraints"
>;
export type RclSetParametersResult = rclnodejs.rcl_interfaces.msg.SetParametersResult;

export interface RclNode {
  readonly name: () => string;
  readonly namespace: () => string;
  /** `/ns/name` after `__ns`/`__node` remapping. */
  readonly getFullyQualifiedName: () => string;
  readonly getLogger: () => RclLogger;
  readonly now: () => { toMsg(): rclnodejs.builtin_interfaces.msg.Time };
  /** Fully qualified name after namespace expansion and remapping (`-r from:=to`). */
  readonly resolveTopicName: (topic: string, onlyExpand?: boolean) => string;
  readonly createPublisher: <K extends RclMessageTypeName>(
    typeClass: K,
    topic: string,
    options?: RclOptions,
  ) => RclPublisher<K>;
  readonly createSubscription: <K extends RclMessageTypeName>(
    typeClass: K,
    topic: string,
    options: RclOptions,
    callback: (message: RclMessage<K>) => void,
  ) => RclSubscription;
  readonly createTimer: (period: bigint, callback: () => void) => RclTimer;
  readonly declareParameters: (
    parameters: rclnodejs.Parameter[],
    descriptors?: rclnodejs.ParameterDescriptor[],
    ignoreOverrides?: boolean,
  ) => RclParameter[];
  readonly addOnSetParametersCallback: (callback: (parameters: rclnodejs.Parameter[]) => RclSetParametersResult) => void;
  readonly addPreSetParametersCallback: (callback: (parameters: rclnodejs.Parameter[]) => rclnodejs.Parameter[]) => void;
  readonly spin: (timeout?: number) => void;
  readonly destroy: () => void;
}

/** The rclnodejs module as the node uses it. */
export interface RclModule {
  readonly init: (context?: rclnodejs.Context, argv?: string[]) => Promise<void>;
  readonly Node: new (nodeName: string, namespace?: string) => RclNode;
  readonly QoS: new (
    history?: rclnodejs.QoS.HistoryPolicy,
    depth?: number,
    reliability?: rclnodejs.QoS.ReliabilityPolicy,
    durability?: rclnodejs.QoS.DurabilityPolicy,
  ) => rclnodejs.QoS;
  readonly Parameter: new (name: string, type: rclnodejs.ParameterType, value?: unknown) => rclnodejs.Parameter;
  readonly ParameterDescriptor: new (
    name: string,
    type: rclnodejs.ParameterType,
    description?: string,
    readOnly?: boolean,
  ) => rclnodejs.ParameterDescriptor;
  /** Lets the node own SIGINT/SIGTERM, so it can finish the in-flight frame before shutting down. */
  readonly removeSignalHandlers: () => void;
  readonly shutdown: () => void;
  readonly isShutdown: () => boolean;
}

// rcl_interfaces/msg/ParameterType and rmw QoS policy values. rclnodejs declares ParameterType as
// an ambient const enum, which isolated modules cannot read as a value; typed constants keep the
// numbers checked against its declarations.
export const PARAMETER_BOOL: rclnodejs.ParameterType.PARAMETER_BOOL = 1;
export const PARAMETER_INTEGER: rclnodejs.ParameterType.PARAMETER_INTEGER = 2;
export const PARAMETER_DOUBLE: rclnodejs.ParameterType.PARAMETER_DOUBLE = 3;
export const PARAMETER_STRING: rclnodejs.ParameterType.PARAMETER_STRING = 4;
export const PARAMETER_STRING_ARRAY: rclnodejs.ParameterType.PARAMETER_STRING_ARRAY = 9;

export const HISTORY_KEEP_LAST: rclnodejs.QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST = 1;
export const HISTORY_KEEP_ALL: rclnodejs.QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_ALL = 2;
export const RELIABILITY_RELIABLE: rclnodejs.QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE = 1;
export const RELIABILITY_BEST_EFFORT: rclnodejs.QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT = 2;
export const DURABILITY_TRANSIENT_LOCAL: rclnodejs.QoS.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL = 1;
export const DURABILITY_VOLATILE: rclnodejs.QoS.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE = 2;

// Compile-time proof that the real module and node fit the narrow types above.
type Conforms<Actual extends Expected, Expected> = Actual;
/** rclnodejs.Publisher as its JavaScript is (see the note at the top on subscriptionCount). */
type RealPublisher<K extends RclMessageTypeName> = Omit<rclnodejs.Publisher<K>, "subscriptionCount"> & { readonly subscriptionCount: number };
type RealNode = Omit<rclnodejs.Node, "createPublisher"> & {
  createPublisher<K extends RclMessageTypeName>(typeClass: K, topic: string, options?: RclOptions): RealPublisher<K>;
};
/** The rclnodejs module as its JavaScript is: its declarations with the corrections above. */
export type RealRclnodejsModule = Omit<typeof rclnodejs, "Node"> & {
  Node: new (nodeName: string, namespace?: string) => RealNode;
};
export type RealModuleConforms = Conforms<RealRclnodejsModule, RclModule>;
export type RealNodeConforms = Conforms<RealNode, RclNode>;
export type RealPublisherConforms = Conforms<RealPublisher<"sensor_msgs/msg/Image">, RclPublisher<"sensor_msgs/msg/Image">>;
export type RealSubscriptionConforms = Conforms<rclnodejs.Subscription, RclSubscription>;
export type RealTimerConforms = Conforms<rclnodejs.Timer, RclTimer>;
export type RealLoggerConforms = Conforms<rclnodejs.Logging, RclLogger>;
