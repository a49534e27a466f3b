// Is ROS 2 sourced, and can rclnodejs be loaded? Checked before anything imports rclnodejs, so a
// machine without ROS gets a sentence that says what to do instead of a native-addon stack trace.

import { createRequire } from "node:module";
import type * as rclnodejs from "rclnodejs";
import { FatalError } from "../../errors.js";
import type { RclModule, RealRclnodejsModule } from "./rclPort.js";

export interface RosEnvironment {
  readonly sourced: boolean;
  /** e.g. "jazzy"; empty when unknown. */
  readonly distro: string;
}

export function rosEnvironment(env: NodeJS.ProcessEnv = process.env): RosEnvironment {
  const distro = env["ROS_DISTRO"] ?? "";
  return { sourced: Boolean(env["AMENT_PREFIX_PATH"] || distro), distro };
}

export const ROS_NOT_SOURCED =
  "ROS 2 is not sourced (AMENT_PREFIX_PATH and ROS_DISTRO are unset).\n" +
  "Source your ROS 2 installation (e.g. `source /opt/ros/jazzy/setup.bash`), then run `npm ci` again so the\n" +
  "optional dependency rclnodejs installs and builds against it.\n" +
  "For offline use without ROS: `depthseg replay <in.mcap> --out <out.mcap>`.";

/**
 * Loads rclnodejs (CommonJS entry: its ESM build has only a default export, while its
 * declarations describe named exports). Throws a FatalError that says how to fix a missing or
 * unbuilt install.
 */
export function loadRclnodejs(resolveFrom: string = import.meta.url): RclModule {
  const require = createRequire(resolveFrom);
  let loaded: typeof rclnodejs;
  try {
    loaded = require("rclnodejs") as typeof rclnodejs;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "MODULE_NOT_FOUND" && String((error as Error).message).includes("'rclnodejs'")) {
      throw new FatalError(
        "rclnodejs is not installed. It is an optional dependency that installs only where ROS 2 is sourced:\n" +
          "source ROS 2, then run `npm ci` (or `npm install rclnodejs`) in the depthseg folder.",
      );
    }
    throw new FatalError(
      `rclnodejs failed to load: ${(error as Error).message}\n` +
        "Its native addon is built against the ROS 2 it was installed with; after changing ROS distro run `npm rebuild rclnodejs`.",
    );
  }
  // Its declarations describe subscriptionCount as a method; the JavaScript has a getter (rclPort.ts).
  return loaded as unknown as RealRclnodejsModule;
}
