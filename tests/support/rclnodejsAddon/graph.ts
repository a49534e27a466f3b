// The ROS graph behind the rclnodejs addon stand-in: topics with their publishers and
// subscriptions, matched as DDS matches them (rmw: same topic and type, compatible reliability
// and durability), and messages carried between them as CDR bytes, as rmw carries them.
//
// A published message is read out of the C struct rclnodejs wrote (with the generated class's
// own deserialize, the way rmw's introspection typesupport reads it), encoded to CDR with
// @foxglove/rosmsg2-serialization from the type's .msg definition, and decoded again when a
// subscription takes it, into a struct built by the generated class. So a message that cannot
// travel as CDR fails here as it would on a robot.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseMsg } from "@foxglove/rosmsg";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";

export interface QosProfile {
  readonly history: number;
  readonly depth: number;
  /** rmw: 1 reliable, 2 best effort. */
  readonly reliability: number;
  /** rmw: 1 transient local, 2 volatile. */
  readonly durability: number;
}

const RELIABLE = 1;
const BEST_EFFORT = 2;
const TRANSIENT_LOCAL = 1;
const VOLATILE = 2;
const KEEP_ALL = 2;

export interface Endpoint {
  readonly node: string;
  readonly topic: string;
  readonly type: string;
  readonly qos: QosProfile;
}

export interface PublisherEndpoint extends Endpoint {
  /** What a transient-local publisher keeps for late subscribers. */
  readonly history: Uint8Array[];
}

export interface SubscriptionEndpoint extends Endpoint {
  readonly queue: Uint8Array[];
}

/** rmw_qos_profile_check_compatible, for the policies we set. */
export function compatible(pub: QosProfile, sub: QosProfile): boolean {
  if (pub.reliability === BEST_EFFORT && sub.reliability === RELIABLE) return false;
  if (pub.durability === VOLATILE && sub.durability === TRANSIENT_LOCAL) return false;
  return true;
}

export class Graph {
  readonly publishers = new Set<PublisherEndpoint>();
  readonly subscriptions = new Set<SubscriptionEndpoint>();
  readonly #codecs = new Map<string, { writer: MessageWriter; reader: MessageReader }>();
  /** Called when a subscription has something to take. */
  onReady: () => void = () => {};

  /** `amentPrefixes`: where the .msg files are found; read when a type is first used, as rmw loads typesupport from the sourced prefixes. */
  constructor(readonly amentPrefixes: () => readonly string[]) {}

  addPublisher(endpoint: Endpoint): PublisherEndpoint {
    const pub: PublisherEndpoint = { ...endpoint, history: [] };
    this.codec(endpoint.type);
    this.publishers.add(pub);
    return pub;
  }

  addSubscription(endpoint: Endpoint): SubscriptionEndpoint {
    const sub: SubscriptionEndpoint = { ...endpoint, queue: [] };
    this.codec(endpoint.type);
    this.subscriptions.add(sub);
    // Late joiners get what transient-local publishers kept.
    for (const pub of this.publishers) {
      if (this.#matches(pub, sub) && pub.qos.durability === TRANSIENT_LOCAL && sub.qos.durability === TRANSIENT_LOCAL) {
        for (const bytes of pub.history) this.#enqueue(sub, bytes);
      }
    }
    return sub;
  }

  matchedSubscriptions(pub: PublisherEndpoint): number {
    let count = 0;
    for (const sub of this.subscriptions) if (this.#matches(pub, sub)) count++;
    return count;
  }

  matchedPublishers(sub: SubscriptionEndpoint): number {
    let count = 0;
    for (const pub of this.publishers) if (this.#matches(pub, sub)) count++;
    return count;
  }

  publish(pub: PublisherEndpoint, message: unknown): void {
    const bytes = this.codec(pub.type).writer.writeMessage(message);
    if (pub.qos.durability === TRANSIENT_LOCAL) {
      pub.history.push(bytes);
      if (pub.history.length > Math.max(1, pub.qos.depth)) pub.history.shift();
    }
    for (const sub of this.subscriptions) if (this.#matches(pub, sub)) this.#enqueue(sub, bytes);
    this.onReady();
  }

  decode(type: string, bytes: Uint8Array): unknown {
    return this.codec(type).reader.readMessage(bytes);
  }

  #matches(pub: Endpoint, sub: Endpoint): boolean {
    return pub.topic === sub.topic && pub.type === sub.type && compatible(pub.qos, sub.qos);
  }

  #enqueue(sub: SubscriptionEndpoint, bytes: Uint8Array): void {
    sub.queue.push(bytes);
    // keep_last(depth): the oldest sample is replaced once the history is full.
    if (sub.qos.history !== KEEP_ALL && sub.queue.length > Math.max(1, sub.qos.depth)) sub.queue.shift();
  }

  /** CDR codec of `pkg/msg/Name` from its .msg file (and those it uses) under the ament prefix. */
  codec(type: string): { writer: MessageWriter; reader: MessageReader } {
    let codec = this.#codecs.get(type);
    if (!codec) {
      const definitions = parseMsg(this.#definitionText(type), { ros2: true });
      codec = { writer: new MessageWriter(definitions), reader: new MessageReader(definitions) };
      this.#codecs.set(type, codec);
    }
    return codec;
  }

  /** The root .msg text followed by `MSG: pkg/Name` sections for every type it uses, as rosbag2 writes them. */
  #definitionText(type: string): string {
    const [pkg, , name] = type.split("/") as [string, string, string];
    const seen = new Set<string>([`${pkg}/${name}`]);
    const sections: string[] = [];
    const visit = (pkgName: string, msgName: string): string => {
      const prefixes = this.amentPrefixes();
      const file = prefixes.map((prefix) => join(prefix, "share", pkgName, "msg", `${msgName}.msg`)).find((f) => existsSync(f));
      if (!file) throw new Error(`no .msg file for ${pkgName}/${msgName} under ${prefixes.join(":")}`);
      const text = readFileSync(file, "utf8");
      for (const line of text.split("\n")) {
        const field = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)?)(?:\[[^\]]*\])?\s+[A-Za-z_]/.exec(line);
        if (!field || PRIMITIVES.has(field[1]!)) continue;
        const [usedPkg, usedName] = field[1]!.includes("/") ? field[1]!.split("/") as [string, string] : [pkgName, field[1]!];
        const key = `${usedPkg}/${usedName}`;
        if (seen.has(key)) continue;
        seen.add(key);
        sections.push(`MSG: ${key}\n${visit(usedPkg, usedName)}`);
      }
      return text;
    };
    const root = visit(pkg, name);
    return [root, ...sections].join("\n================================================================================\n");
  }
}

const PRIMITIVES = new Set([
  "bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "string", "wstring",
]);
