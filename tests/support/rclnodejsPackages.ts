// Real copies of rclnodejs for the live-node contract tests, on machines without ROS 2.
//
// Each copy is the locked rclnodejs tarball (npm pack, integrity-checked) unpacked under
// .rclnodejs/<variant>/node_modules/rclnodejs, with its JavaScript message classes generated
// by its own generator (rosidl_gen, which parses .msg files with Debian's python3-rosidl) from
// real ROS 2 Jazzy interface definitions (tests/support/ament, see its README) and from our
// msg/PerceptionStatus.msg, laid out as an ament prefix like a colcon install. Only the native
// addon is missing; tests/support/rclnodejsAddon stands in for it.
//
// Variants differ in which interface packages were installed when the messages were generated,
// as on a robot where a package is missing: "no-depthseg" has not built our package,
// "no-vision-msgs" lacks ros-$ROS_DISTRO-vision-msgs. "before-colcon" is the README's order: npm ci
// (messages generated) before colcon build; its test then sources our package, and rclnodejs
// generates the missing class itself, so that copy is made anew on every run.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lockedRclnodejs, packLockedRclnodejs } from "../../tools/ros-types/setup.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const RCLNODEJS_ROOT = join(ROOT, ".rclnodejs");
export const ROS_INTERFACES_PREFIX = join(ROOT, "tests", "support", "ament");
const DEPTHSEG_PREFIX = join(RCLNODEJS_ROOT, "depthseg-prefix");
/** What rclnodejs's generated classes are checked against on a robot: ROS_DISTRO. */
export const ROS_DISTRO = "jazzy";

export type RclnodejsVariant = "full" | "no-depthseg" | "no-vision-msgs" | "before-colcon";
export const RCLNODEJS_VARIANTS: readonly RclnodejsVariant[] = ["full", "no-depthseg", "no-vision-msgs", "before-colcon"];
/** Variants whose tests change them (rclnodejs generates into them): made anew each time. */
const CHANGED_BY_TESTS: ReadonlySet<RclnodejsVariant> = new Set(["before-colcon"]);

/** The folder `require("rclnodejs")` is resolved from, for a variant. */
export function variantRoot(variant: RclnodejsVariant): string {
  return join(RCLNODEJS_ROOT, variant);
}

export function packageDir(variant: RclnodejsVariant): string {
  return join(variantRoot(variant), "node_modules", "rclnodejs");
}

/** AMENT_PREFIX_PATH entries of a variant (the interface packages "installed" for it). */
export function amentPrefixes(variant: RclnodejsVariant): string[] {
  if (variant === "no-vision-msgs") return [withoutPackage("vision_msgs"), DEPTHSEG_PREFIX];
  return variant === "no-depthseg" || variant === "before-colcon" ? [ROS_INTERFACES_PREFIX] : [ROS_INTERFACES_PREFIX, DEPTHSEG_PREFIX];
}

/** AMENT_PREFIX_PATH after `colcon build && source install/setup.bash`: our package's prefix in front. */
export function withDepthsegInstalled(prefixes: readonly string[]): string[] {
  return [DEPTHSEG_PREFIX, ...prefixes.filter((p) => p !== DEPTHSEG_PREFIX)];
}

function withoutPackage(pkg: string): string {
  return join(RCLNODEJS_ROOT, `ros-without-${pkg.replaceAll("_", "-")}`);
}

/** The interface prefix without `pkg`, copied anew (before the tests: it follows files added to the prefix). */
function writePrefixWithout(pkg: string): void {
  const prefix = withoutPackage(pkg);
  rmSync(prefix, { recursive: true, force: true });
  cpSync(ROS_INTERFACES_PREFIX, prefix, { recursive: true });
  rmSync(join(prefix, "share", pkg), { recursive: true });
  for (const index of ["rosidl_interfaces", "packages"]) rmSync(join(prefix, "share", "ament_index", "resource_index", index, pkg));
}

/** Our package as `colcon build` installs its interfaces: share/depthseg/msg and the ament index. */
function writeDepthsegPrefix(): void {
  rmSync(DEPTHSEG_PREFIX, { recursive: true, force: true });
  const index = join(DEPTHSEG_PREFIX, "share", "ament_index", "resource_index");
  mkdirSync(join(DEPTHSEG_PREFIX, "share", "depthseg", "msg"), { recursive: true });
  mkdirSync(join(index, "rosidl_interfaces"), { recursive: true });
  mkdirSync(join(index, "packages"), { recursive: true });
  cpSync(join(ROOT, "msg", "PerceptionStatus.msg"), join(DEPTHSEG_PREFIX, "share", "depthseg", "msg", "PerceptionStatus.msg"));
  writeFileSync(join(index, "rosidl_interfaces", "depthseg"), "msg/PerceptionStatus.msg\n");
  writeFileSync(join(index, "packages", "depthseg"), "");
}

/** Every file under `dir` with a hash of its content, sorted: what the generated classes depend on. */
function interfaceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return `${path.slice(dir.length)} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
    })
    .sort();
}

/** Environment of a process that uses a variant: what `source /opt/ros/jazzy/setup.bash` sets. */
export function rosEnvironmentFor(variant: RclnodejsVariant): Record<string, string> {
  return {
    AMENT_PREFIX_PATH: amentPrefixes(variant).join(":"),
    ROS_DISTRO,
    // rclnodejs's generator runs `python3`; rosidl_adapter is Debian's (python3-rosidl).
    PATH: `/usr/bin:${process.env["PATH"] ?? ""}`,
  };
}

/**
 * Unpacks every variant and generates its messages; a no-op for a variant that is up to date
 * (same rclnodejs, same .msg files). Runs once before the tests (vitest globalSetup).
 */
export function prepareRclnodejsPackages(log: (line: string) => void = () => {}): void {
  const locked = lockedRclnodejs();
  writeDepthsegPrefix();
  writePrefixWithout("vision_msgs");
  // Regenerated when rclnodejs, our .msg or any interface file of the ament prefix changes.
  const stamp = `${locked.version} ${locked.integrity}\n${readFileSync(join(ROOT, "msg", "PerceptionStatus.msg"), "utf8")}\n${interfaceFiles(ROS_INTERFACES_PREFIX).join("\n")}`;
  let tarball: string | undefined;
  const work = mkdtempSync(join(tmpdir(), "rclnodejs-pkg-"));
  try {
    for (const variant of RCLNODEJS_VARIANTS) {
      const dir = packageDir(variant);
      const stampFile = join(variantRoot(variant), "SOURCE");
      const upToDate = existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp && existsSync(join(dir, "generated"));
      if (upToDate && !CHANGED_BY_TESTS.has(variant)) continue;
      rmSync(variantRoot(variant), { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      tarball ??= packLockedRclnodejs(work);
      // The prebuilt addons are of no use without ROS 2 (and are most of the tarball).
      execFileSync("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1", "--exclude=package/prebuilds"]);
      const generate = "require('./rosidl_gen/index.cjs').generateAll(true).catch((e) => { console.error(String(e)); process.exit(1); })";
      try {
        execFileSync(process.execPath, ["-e", generate], { cwd: dir, env: { ...process.env, ...rosEnvironmentFor(variant) }, stdio: ["ignore", "pipe", "pipe"] });
      } catch (error) {
        const stderr = String((error as { stderr?: Buffer }).stderr ?? "");
        throw new Error(
          `rclnodejs ${locked.version} could not generate its messages (${variant}): ${stderr.trim() || (error as Error).message}\n` +
            "It parses .msg files with ROS 2's rosidl_adapter: `sudo apt-get install python3-rosidl` (Debian).",
        );
      }
      writeFileSync(join(variantRoot(variant), "index.js"), "// resolves require('rclnodejs') to ./node_modules/rclnodejs\n");
      writeFileSync(stampFile, stamp);
      log(`rclnodejs ${locked.version} (${variant}): messages generated from ${amentPrefixes(variant).length} ament prefixes`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
