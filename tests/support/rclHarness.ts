// The live node's tests run rclnodejs's own JavaScript (a real copy, tests/support/rclnodejsPackages.ts)
// with only its native addon replaced (tests/support/rclnodejsAddon). Other nodes in the same
// process (a camera driver, a viewer) are real rclnodejs nodes too, so what the tests see is
// what a subscriber on the robot would receive, after CDR.

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadRclnodejs } from "../../src/transport/ros/rosEnvironment.js";
import type { RclModule } from "../../src/transport/ros/rclPort.js";
import { createAddonStandIn, installAddonStandIn, type AddonStandIn } from "./rclnodejsAddon/addon.js";
import type { Endpoint } from "./rclnodejsAddon/graph.js";
import { packageDir, rosEnvironmentFor, variantRoot, type RclnodejsVariant } from "./rclnodejsPackages.js";

/** rclnodejs as loaded (its module object has more than the port declares). */
export interface RealRclnodejs {
  readonly rcl: RclModule & {
    readonly Context: { defaultContext(): { readonly nodes: RealNode[] } };
  };
  readonly standIn: AddonStandIn;
}

/** The parts of an rclnodejs Node (lib/node.js) the tests use. */
export interface RealNode {
  name(): string;
  namespace(): string;
  createPublisher(type: string, topic: string, options?: { qos?: unknown }): { publish(message: unknown): void };
  createSubscription(type: string, topic: string, options: { qos?: unknown }, callback: (message: never) => void): unknown;
  getParameter(name: string): { name: string; type: number; value: unknown };
  getParameterDescriptor(name: string): { name: string; type: number; description: string; readOnly: boolean; additionalConstraints: string } | undefined;
  hasParameter(name: string): boolean;
  setParameter(parameter: unknown): { successful: boolean; reason: string };
  spin(timeout?: number): void;
  destroy(): void;
}

let loaded: { variant: RclnodejsVariant; real: RealRclnodejs } | undefined;

/** Loads the variant's rclnodejs in this process (once: rclnodejs keeps process-wide state). */
export function loadRealRclnodejs(variant: RclnodejsVariant = "full"): RealRclnodejs {
  if (loaded) {
    if (loaded.variant !== variant) throw new Error(`this process already loaded rclnodejs (${loaded.variant}); use one variant per test file`);
    return loaded.real;
  }
  Object.assign(process.env, rosEnvironmentFor(variant));
  const dir = packageDir(variant);
  const standIn = createAddonStandIn(dir);
  installAddonStandIn(dir, standIn);
  const rcl = loadRclnodejs(pathToFileURL(join(variantRoot(variant), "index.js")).href) as RealRclnodejs["rcl"];
  loaded = { variant, real: { rcl, standIn } };
  return loaded.real;
}

/** The node called `name` in rclnodejs's default context. */
export function nodeNamed(real: RealRclnodejs, name: string): RealNode {
  const node = real.rcl.Context.defaultContext().nodes.find((n) => n.name() === name);
  if (!node) throw new Error(`no node named ${name}`);
  return node;
}

/** rmw's words for a QoS profile: "reliable volatile keep_last 1". */
export function describeQos(endpoint: Endpoint): string {
  const { qos } = endpoint;
  const reliability = ["system_default", "reliable", "best_effort"][qos.reliability] ?? "?";
  const durability = ["system_default", "transient_local", "volatile"][qos.durability] ?? "?";
  const history = ["system_default", "keep_last", "keep_all"][qos.history] ?? "?";
  return `${reliability} ${durability} ${history} ${qos.depth}`;
}

/** Endpoints of one node in the graph, by topic: { type, qos }. */
export function endpointsOf(real: RealRclnodejs, kind: "publishers" | "subscriptions", node: string): Record<string, { type: string; qos: string }> {
  const endpoints = [...real.standIn.graph[kind]].filter((e) => e.node === node && !e.topic.endsWith("/parameter_events") && !e.topic.startsWith("/rosout"));
  return Object.fromEntries(endpoints.map((e) => [e.topic, { type: e.type, qos: describeQos(e) }]));
}

const RELIABLE_VOLATILE = { history: 1, depth: 10, reliability: 1, durability: 2, liveliness: 0, avoidRosNameSpaceConventions: false };
const RELIABLE_LATCHED = { ...RELIABLE_VOLATILE, durability: 1 };

/** A second node in the process: a camera driver that publishes, and a viewer that records. */
export class PeerNode {
  readonly #node: RealNode;
  readonly #publishers = new Map<string, { publish(message: unknown): void }>();

  constructor(
    readonly real: RealRclnodejs,
    name: string,
  ) {
    this.#node = new real.rcl.Node(name) as unknown as RealNode;
    this.#node.spin();
  }

  /**
   * Publishes on `topic` (reliable: matches the node's best-effort subscriptions too); `latched`
   * as tf2_ros's StaticTransformBroadcaster (transient local, keep last 1), for /tf_static.
   */
  publish(type: string, topic: string, message: unknown, options: { latched?: boolean } = {}): void {
    let publisher = this.#publishers.get(topic);
    if (!publisher) {
      const profile = options.latched ? { ...RELIABLE_LATCHED, depth: 1 } : RELIABLE_VOLATILE;
      publisher = this.#node.createPublisher(type, topic, { qos: this.#qos(profile) });
      this.#publishers.set(topic, publisher);
    }
    publisher.publish(message);
  }

  /** Subscribes to `topic` and returns the array its messages are pushed to, as received. */
  record<T>(type: string, topic: string, options: { latched?: boolean } = {}): T[] {
    const received: T[] = [];
    this.#node.createSubscription(type, topic, { qos: this.#qos(options.latched ? RELIABLE_LATCHED : RELIABLE_VOLATILE) }, (message: never) => {
      received.push(message as T);
    });
    return received;
  }

  destroy(): void {
    this.#node.destroy();
  }

  #qos(profile: typeof RELIABLE_VOLATILE): unknown {
    return new this.real.rcl.QoS(profile.history as never, profile.depth, profile.reliability as never, profile.durability as never);
  }
}
