// `depthseg <command>`: one entry point; each command is its own module in src/commands/.
// Exit codes: 0 ok, 1 failed, 2 usage error.

import { pathToFileURL } from "node:url";
import { ParameterError } from "./config/parameters.js";
import { FatalError } from "./errors.js";
import { UsageError, packageVersion, type Command } from "./commands/common.js";
import { demoCommand } from "./commands/demo.js";
import { evalCommand } from "./commands/eval.js";
import { exposeFeaturesCommand } from "./commands/exposeFeatures.js";
import { fitHeadCommand } from "./commands/fitHead.js";
import { modelsCommand } from "./commands/models.js";
import { replayCommand } from "./commands/replay.js";
import { runCommand } from "./commands/run.js";

export { runLiveNode } from "./commands/run.js";
export type { SignalSource } from "./commands/common.js";

const COMMANDS: readonly Command[] = [replayCommand, evalCommand, fitHeadCommand, exposeFeaturesCommand, demoCommand, runCommand, modelsCommand];

const USAGE = `Usage: depthseg <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.synopsis}`).join("\n")}
  help [<command>] | --help           This text, or a command's options (also: depthseg <command> --help)
  version | --version

depthseg <command> --help lists that command's options.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  let command: Command | undefined;
  try {
    switch (name) {
      case "version":
      case "--version":
        process.stdout.write(`${await packageVersion()}\n`);
        return 0;
      case undefined:
        process.stderr.write(USAGE);
        return 2;
      case "help":
      case "--help":
      case "-h": {
        const about = rest[0] === undefined ? undefined : COMMANDS.find((c) => c.name === rest[0]);
        if (rest[0] !== undefined && !about) {
          process.stderr.write(`depthseg: unknown command "${rest[0]}"\n\n${USAGE}`);
          return 2;
        }
        process.stdout.write(about?.usage ?? USAGE);
        return 0;
      }
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      process.stderr.write(`depthseg: unknown command "${name}"\n\n${USAGE}`);
      return 2;
    }
    // `run` passes everything after --ros-args to ROS: only what comes before is depthseg's.
    const rosArgsAt = rest.indexOf("--ros-args");
    const own = rosArgsAt === -1 ? rest : rest.slice(0, rosArgsAt);
    if (own.includes("--help") || own.includes("-h")) {
      process.stdout.write(command.usage);
      return 0;
    }
    if (own.includes("--version")) {
      process.stdout.write(`${await packageVersion()}\n`);
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`depthseg: ${error.message}\n\n${command?.usage ?? USAGE}`);
      return 2;
    }
    if (error instanceof FatalError || error instanceof ParameterError) {
      process.stderr.write(`depthseg: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`depthseg: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

// Run directly (`npx tsx src/cli.ts …` during development); bin/depthseg.js imports main instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
