// `depthseg run [--ros-args ...]`: the live ROS 2 node.

import { exitBySignal } from "../exitBySignal.js";
import { LiveNode } from "../transport/ros/liveNode.js";
import type { RclModule } from "../transport/ros/rclPort.js";
import { ROS_NOT_SOURCED, loadRclnodejs, rosEnvironment } from "../transport/ros/rosEnvironment.js";
import { UsageError, onStopSignals, type Command, type SignalSource } from "./common.js";

const USAGE = `Usage: depthseg run [--ros-args ...]

Runs the live ROS 2 node "depthseg" (ROS 2 must be sourced). Everything is set the ROS way:
  --ros-args --params-file config/depthseg.params.yaml   parameters (see README)
             -p model:=/path/to/bundle                   one parameter
             -r image:=/camera/color/image_raw           remap inputs (also camera_info, image/compressed)
             -r __ns:=/depthseg                          node namespace (outputs go under it)
Stop with Ctrl-C or SIGTERM: frames in flight finish, then the node exits with 0.

Options (before --ros-args):
  -h, --help      this text
      --version   depthseg's version
`;

async function run(args: readonly string[]): Promise<number> {
  const rosArgsAt = args.indexOf("--ros-args");
  const ownArgs = rosArgsAt === -1 ? args : args.slice(0, rosArgsAt);
  if (ownArgs.length > 0) {
    throw new UsageError(`run takes ROS arguments only (after --ros-args), got "${ownArgs.join(" ")}"; e.g. -p model:=<bundle>`);
  }
  if (!rosEnvironment().sourced) {
    process.stderr.write(`depthseg run: ${ROS_NOT_SOURCED}\n`);
    return 1;
  }
  const code = await runLiveNode(loadRclnodejs(), [process.argv[0] ?? "node", process.argv[1] ?? "depthseg", ...args]);
  // Everything is closed; should a native handle still hold the event loop, do not hang on exit.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

/**
 * Runs the live node until SIGINT or SIGTERM (or a fatal error) and resolves to the exit code.
 * A second signal ends the process at once by that signal (status 130 for SIGINT), for a node
 * stuck finishing a frame.
 */
export async function runLiveNode(
  rcl: RclModule,
  argv: readonly string[],
  signals: SignalSource = process,
  forceExit: (signal: NodeJS.Signals) => void = exitBySignal,
): Promise<number> {
  const node = await LiveNode.start({ rcl, argv });
  const removeHandlers = onStopSignals(
    signals,
    (signal) => void node.shutdown(`${signal} received`),
    (signal) => {
      process.stderr.write(`depthseg run: ${signal} again, exiting without waiting\n`);
      forceExit(signal);
    },
  );
  try {
    await node.stopped;
  } finally {
    removeHandlers();
  }
  if (node.fatalError) {
    process.stderr.write(`depthseg run: ${node.fatalError.message}\n`);
    return 1;
  }
  return 0;
}

export const runCommand: Command = {
  name: "run",
  synopsis: "run [--ros-args ...]                Live ROS 2 node (needs a sourced ROS 2)",
  usage: USAGE,
  run,
};
