// Puts rclnodejs's own API declarations where tsconfig's `paths` finds them (.rclnodejs-types/),
// so the live node type-checks against the real rclnodejs API on every machine, ROS or not.
//
// rclnodejs is an optionalDependency: it installs (and builds its native addon) only where ROS 2
// is sourced, so CI and laptops have no node_modules/rclnodejs. Its `types/*.d.ts` are taken from
// the installed package when present, else from `npm pack` of the exact version in
// package-lock.json (checked against the lockfile's integrity hash). Its `interfaces.d.ts`, which
// rclnodejs generates from the ROS installation at install time, is generated here from real
// ROS 2 .msg definitions (see interfacesDts.ts). Runs from `prepare` and `npm test`; a no-op when
// the folder is already up to date.

import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { knownDefinitions } from "../../src/messages/definitions.js";
import { interfacesDts } from "./interfacesDts.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const TYPES_DIR = join(ROOT, ".rclnodejs-types");
const STAMP = join(TYPES_DIR, "SOURCE");

interface LockedPackage {
  readonly version: string;
  readonly integrity: string;
}

export function lockedRclnodejs(): LockedPackage {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages?: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages?.["node_modules/rclnodejs"];
  if (!entry?.version || !entry.integrity) {
    throw new Error("package-lock.json has no rclnodejs entry with version and integrity; run `npm install`");
  }
  return { version: entry.version, integrity: entry.integrity };
}

/** Copies every `*.d.ts` of `from` but interfaces.d.ts (ours is generated) into TYPES_DIR. */
function copyDeclarations(from: string): number {
  const files = readdirSync(from).filter((f) => f.endsWith(".d.ts") && f !== "interfaces.d.ts");
  if (!files.includes("index.d.ts")) throw new Error(`${from} has no index.d.ts`);
  for (const file of files) copyFileSync(join(from, file), join(TYPES_DIR, file));
  return files.length;
}

function fromInstalledPackage(locked: LockedPackage): string | undefined {
  const dir = join(ROOT, "node_modules", "rclnodejs");
  if (!existsSync(join(dir, "package.json"))) return undefined;
  const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string };
  if (version !== locked.version) return undefined;
  copyDeclarations(join(dir, "types"));
  return `node_modules/rclnodejs@${version}`;
}

/**
 * `npm pack` of the locked rclnodejs into `work`, checked against package-lock.json's integrity
 * hash; returns the tarball's path. Also used by the live-node contract tests (tests/support).
 */
export function packLockedRclnodejs(work: string): string {
  const locked = lockedRclnodejs();
  const spec = `rclnodejs@${locked.version}`;
  const packed = JSON.parse(
    execFileSync("npm", ["pack", spec, "--json", "--prefer-offline", "--pack-destination", work], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }),
  ) as { filename: string }[];
  const tarball = join(work, packed[0]!.filename);
  const [algorithm, expected] = locked.integrity.split("-", 2) as [string, string];
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest("base64");
  if (actual !== expected) throw new Error(`${spec} from the registry does not match package-lock.json's integrity`);
  return tarball;
}

function fromRegistry(locked: LockedPackage): string {
  const work = mkdtempSync(join(tmpdir(), "rclnodejs-types-"));
  try {
    const tarball = packLockedRclnodejs(work);
    execFileSync("tar", ["-xzf", tarball, "-C", work, "package/types"]);
    copyDeclarations(join(work, "package", "types"));
    return `npm pack rclnodejs@${locked.version}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function setupRclnodejsTypes(log: (line: string) => void = () => {}): void {
  const locked = lockedRclnodejs();
  const interfaces = interfacesDts(knownDefinitions());
  const wanted = `rclnodejs ${locked.version} ${locked.integrity}\ninterfaces ${createHash("sha256").update(interfaces).digest("hex")}\n`;
  if (existsSync(STAMP) && readFileSync(STAMP, "utf8") === wanted && existsSync(join(TYPES_DIR, "index.d.ts"))) return;

  rmSync(TYPES_DIR, { recursive: true, force: true });
  mkdirSync(TYPES_DIR, { recursive: true });
  const source = fromInstalledPackage(locked) ?? fromRegistry(locked);
  writeFileSync(join(TYPES_DIR, "interfaces.d.ts"), interfaces);
  writeFileSync(STAMP, wanted);
  log(`rclnodejs ${locked.version} declarations from ${source}; interfaces.d.ts generated from ROS 2 .msg definitions`);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  try {
    setupRclnodejsTypes((line) => process.stderr.write(`ros-types: ${line}\n`));
  } catch (error) {
    process.stderr.write(`ros-types: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
