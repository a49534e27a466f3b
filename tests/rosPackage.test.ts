// The ROS 2 (ament_cmake) packaging: package.xml, CMakeLists.txt, the lib/depthseg/depthseg_node
// wrapper, the two launch files and the rviz2 config. ROS 2 is not installed where the tests run, so
// `ros2 launch` cannot run them: tests/support/launchInfo.py reads the files with Python's ast and
// xml.etree, and resolves what each launch file would start (the Python one against recording stubs of
// launch/launch_ros, the XML one with a parser of launch_xml's $(...) substitutions).

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OUTPUT_TOPICS } from "../src/messages/outputMessages.js";
import { tempDir } from "./support/cameraBag.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HELPER = join(ROOT, "tests", "support", "launchInfo.py");
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const LAUNCH_PY = join(ROOT, "launch", "depthseg.launch.py");
const LAUNCH_XML = join(ROOT, "launch", "depthseg.launch.xml");
/** Where launchInfo.py's resolvers pretend FindPackageShare / $(find-pkg-share) find packages. */
const SHARE = "/opt/ros/test/share/depthseg";

interface LaunchArgument {
  readonly name: string;
  readonly default: string | null;
  readonly description: string | null;
}

interface ResolvedNode {
  readonly package: string;
  readonly executable: string;
  readonly name: string | null;
  readonly namespace: string | null;
  readonly output: string | null;
  readonly parameters: readonly Record<string, unknown>[];
  readonly remappings: readonly [string, string][];
  readonly arguments: readonly string[];
}

interface ResolvedLaunch {
  readonly arguments: readonly LaunchArgument[];
  readonly nodes: readonly ResolvedNode[];
}

interface LaunchPyFacts {
  readonly functions: readonly string[];
  readonly arguments: readonly LaunchArgument[];
  readonly nodes: readonly Record<string, string>[];
  readonly remappings: readonly [string, string][];
}

interface XmlNode {
  readonly attributes: Record<string, string>;
  readonly params: readonly Record<string, string>[];
  readonly remaps: readonly Record<string, string>[];
}

interface LaunchXmlFacts {
  readonly root: string;
  readonly arguments: readonly LaunchArgument[];
  readonly nodes: readonly XmlNode[];
}

interface PackageXmlFacts {
  readonly root: string;
  readonly format: string | null;
  readonly name: string | null;
  readonly version: string | null;
  readonly description: string;
  readonly license: string | null;
  readonly maintainers: readonly { name: string; email: string | null }[];
  readonly depends: Record<"buildtool_depend" | "depend" | "build_depend" | "exec_depend" | "test_depend", string[]>;
  readonly groups: readonly string[];
  readonly buildType: string | null;
}

function helper<T>(...args: string[]): T {
  return JSON.parse(execFileSync(PYTHON, [HELPER, ...args], { encoding: "utf8" })) as T;
}

function resolveLaunch(file: string, overrides: Record<string, string> = {}): ResolvedLaunch {
  return helper<ResolvedLaunch>("resolve", file, ...Object.entries(overrides).map(([k, v]) => `${k}:=${v}`));
}

function nodeNamed(launch: ResolvedLaunch, name: string): ResolvedNode | undefined {
  return launch.nodes.find((n) => n.name === name);
}

/** CMake commands named `name`, each as its whitespace-separated arguments (quotes kept). */
function cmakeCommands(source: string, name: string): string[][] {
  const code = source.replace(/#.*$/gm, "");
  const pattern = new RegExp(`^\\s*${name}\\s*\\(([^)]*)\\)`, "gim");
  return [...code.matchAll(pattern)].map((m) => m[1]!.trim().split(/\s+/));
}

const ARGUMENT_NAMES = ["namespace", "camera", "use_compressed", "params_file", "model", "rviz", "fixed_frame"];

describe("launch/depthseg.launch.py", () => {
  const facts = helper<LaunchPyFacts>("launch-py", LAUNCH_PY);

  it("declares the launch arguments with their defaults", () => {
    expect(facts.functions).toContain("generate_launch_description");
    expect(facts.arguments.map((a) => a.name)).toEqual(ARGUMENT_NAMES);
    const defaults = Object.fromEntries(facts.arguments.map((a) => [a.name, a.default]));
    expect(defaults).toMatchObject({
      namespace: "depthseg",
      camera: "/camera/color",
      use_compressed: "false",
      model: "",
      rviz: "false",
      fixed_frame: "camera_color_optical_frame",
    });
    expect(defaults["params_file"]).toBe('PathJoinSubstitution([FindPackageShare("depthseg"), "config", "depthseg.params.yaml"])');
    for (const a of facts.arguments) expect(a.description, a.name).toMatch(/\w{3}/);
  });

  it("remaps the node's image, image/compressed and camera_info into the camera namespace", () => {
    expect(facts.remappings).toEqual([
      ["image", 'f"{camera}/image_raw"'],
      ["image/compressed", 'f"{camera}/image_raw/compressed"'],
      ["camera_info", 'f"{camera}/camera_info"'],
    ]);
  });

  it("with the defaults starts depthseg_node only, with the params file and raw transport", () => {
    const launch = resolveLaunch(LAUNCH_PY);
    expect(launch.nodes).toEqual([
      {
        package: "depthseg",
        executable: "depthseg_node",
        name: "depthseg",
        namespace: "depthseg",
        output: "screen",
        parameters: [{ file: `${SHARE}/config/depthseg.params.yaml` }, { image_transport: "raw" }],
        remappings: [
          ["image", "/camera/color/image_raw"],
          ["image/compressed", "/camera/color/image_raw/compressed"],
          ["camera_info", "/camera/color/camera_info"],
        ],
        arguments: [],
      },
    ]);
  });

  it("sets model only when given; use_compressed, camera, namespace and rviz take effect", () => {
    const launch = resolveLaunch(LAUNCH_PY, {
      model: "/data/models/big",
      use_compressed: "true",
      camera: "/front",
      namespace: "perception",
      rviz: "true",
      fixed_frame: "base_link",
    });
    const node = nodeNamed(launch, "depthseg");
    expect(node?.namespace).toBe("perception");
    expect(node?.parameters).toEqual([
      { file: `${SHARE}/config/depthseg.params.yaml` },
      { image_transport: "compressed" },
      { model: "/data/models/big" },
    ]);
    expect(node?.remappings).toContainEqual(["image/compressed", "/front/image_raw/compressed"]);
    expect(nodeNamed(launch, "rviz2")).toMatchObject({
      package: "rviz2",
      executable: "rviz2",
      arguments: ["-d", `${SHARE}/rviz/depthseg.rviz`, "-f", "base_link"],
    });
  });
});

describe("launch/depthseg.launch.xml", () => {
  const facts = helper<LaunchXmlFacts>("launch-xml", LAUNCH_XML);

  it("declares the same arguments as the Python launch file", () => {
    expect(facts.root).toBe("launch");
    const py = helper<LaunchPyFacts>("launch-py", LAUNCH_PY).arguments;
    expect(facts.arguments.map((a) => a.name)).toEqual(ARGUMENT_NAMES);
    const asPy = facts.arguments.map((a) =>
      a.name === "params_file" ? { ...a, default: py.find((p) => p.name === "params_file")!.default } : a,
    );
    expect(asPy).toEqual(py);
    expect(facts.arguments.find((a) => a.name === "params_file")?.default).toBe(
      "$(find-pkg-share depthseg)/config/depthseg.params.yaml",
    );
  });

  it("has two depthseg nodes, one with and one without model, on complementary conditions", () => {
    const depthseg = facts.nodes.filter((n) => n.attributes["name"] === "depthseg");
    expect(depthseg).toHaveLength(2);
    const [withModel, withoutModel] = depthseg as [XmlNode, XmlNode];
    for (const n of depthseg) {
      expect(n.attributes).toMatchObject({ pkg: "depthseg", exec: "depthseg_node", namespace: "$(var namespace)", output: "screen" });
      expect(n.params[0]).toEqual({ from: "$(var params_file)" });
      expect(n.params.find((p) => p.name === "image_transport")?.value).toMatch(/^\$\(eval .*\$\(var use_compressed\)/);
      expect(n.remaps).toEqual([
        { from: "image", to: "$(var camera)/image_raw" },
        { from: "image/compressed", to: "$(var camera)/image_raw/compressed" },
        { from: "camera_info", to: "$(var camera)/camera_info" },
      ]);
    }
    expect(withModel.attributes["if"]).toBeDefined();
    expect(withoutModel.attributes["unless"]).toBe(withModel.attributes["if"]);
    expect(withModel.params.find((p) => p.name === "model")).toEqual({ name: "model", value: "$(var model)" });
    expect(withoutModel.params.some((p) => p.name === "model")).toBe(false);
    const rviz = facts.nodes.find((n) => n.attributes["pkg"] === "rviz2");
    expect(rviz?.attributes).toMatchObject({ exec: "rviz2", name: "rviz2", if: "$(var rviz)" });
  });

  // The same resolved nodes as the Python file for each set of arguments: the two files behave alike.
  it.each<Record<string, string>>([
    {},
    { model: "/data/models/big" },
    { use_compressed: "true", rviz: "true", fixed_frame: "map" },
    { use_compressed: "True", camera: "/front", namespace: "perception", model: "models/tiny", rviz: "1" },
  ])("starts the same nodes as depthseg.launch.py with %o", (overrides) => {
    const xml = resolveLaunch(LAUNCH_XML, overrides);
    expect(xml).toEqual(resolveLaunch(LAUNCH_PY, overrides));
    expect(nodeNamed(xml, "depthseg")?.parameters.some((p) => "model" in p)).toBe(overrides["model"] !== undefined);
    expect(nodeNamed(xml, "rviz2") !== undefined).toBe(overrides["rviz"] !== undefined);
  });
});

describe("package.xml", () => {
  const pkg = helper<PackageXmlFacts>("package-xml", join(ROOT, "package.xml"));

  it("is a format 3 ament_cmake package named depthseg at package.json's version", () => {
    const npm = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; license: string };
    expect(pkg).toMatchObject({ root: "package", format: "3", name: "depthseg", version: npm.version, license: npm.license });
    expect(pkg.description).toBe("Monocular metric depth and semantic segmentation node for ROS 2 (ONNX Runtime, TypeScript)");
    expect(pkg.maintainers).toEqual([{ name: "depthseg maintainers", email: "depthseg@example.com" }]);
    expect(pkg.buildType).toBe("ament_cmake");
    expect(pkg.groups).toEqual(["rosidl_interface_packages"]);
  });

  it("depends on the build tools, message packages, launch and Node.js", () => {
    expect(pkg.depends.buildtool_depend.sort()).toEqual(["ament_cmake", "rosidl_default_generators"]);
    expect(pkg.depends.depend.sort()).toEqual(["builtin_interfaces", "diagnostic_msgs", "sensor_msgs", "std_msgs", "vision_msgs"]);
    expect(pkg.depends.exec_depend.sort()).toEqual(["launch", "launch_ros", "launch_xml", "nodejs", "rosidl_default_runtime", "rviz2"]);
  });
});

describe("CMakeLists.txt", () => {
  const cmake = readFileSync(join(ROOT, "CMakeLists.txt"), "utf8");
  const installs = cmakeCommands(cmake, "install");

  /** What one install() kind (DIRECTORY, FILES, PROGRAMS) puts where: destination → sources. */
  function installed(kind: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const args of installs.filter((a) => a[0] === kind)) {
      const destination = args.indexOf("DESTINATION");
      expect(destination, args.join(" ")).toBeGreaterThan(1);
      out.set(args[destination + 1]!, [...(out.get(args[destination + 1]!) ?? []), ...args.slice(1, destination)]);
    }
    return out;
  }

  it("generates PerceptionStatus with rosidl", () => {
    expect(cmakeCommands(cmake, "rosidl_generate_interfaces")).toEqual([
      ["${PROJECT_NAME}", '"msg/PerceptionStatus.msg"', "DEPENDENCIES", "std_msgs", "builtin_interfaces"],
    ]);
    expect(existsSync(join(ROOT, "msg", "PerceptionStatus.msg"))).toBe(true);
    expect(cmakeCommands(cmake, "project")).toEqual([["depthseg"]]);
    // Every package.xml <depend> and the generator are found, so a missing one fails at configure time.
    const found = cmakeCommands(cmake, "find_package").map((a) => a[0]);
    const pkg = helper<PackageXmlFacts>("package-xml", join(ROOT, "package.xml"));
    for (const dep of [...pkg.depends.depend, "ament_cmake", "rosidl_default_generators"]) expect(found, dep).toContain(dep);
  });

  it("refuses to configure without dist/cli.js and node_modules, pointing at npm ci", () => {
    expect(cmake).toMatch(/foreach\(required dist\/cli\.js node_modules\)/);
    expect(cmake).toMatch(/if\(NOT EXISTS "\$\{CMAKE_CURRENT_SOURCE_DIR\}\/\$\{required\}"\)/);
    expect(cmake).toMatch(/message\(FATAL_ERROR[^)]*npm ci/);
  });

  it("installs the program, its dependencies and data under share/, the wrapper under lib/", () => {
    expect(installed("DIRECTORY").get("share/${PROJECT_NAME}")?.sort()).toEqual(
      ['"${runtime_modules}/node_modules"', "bin", "config", "dist", "launch", "models", "msg", "rviz"],
    );
    expect(installs.find((a) => a[0] === "DIRECTORY")).toContain("USE_SOURCE_PERMISSIONS");
    expect(installed("FILES").get("share/${PROJECT_NAME}")).toEqual(["package.json"]);
    expect(installed("PROGRAMS").get("lib/${PROJECT_NAME}")).toEqual(["scripts/depthseg_node"]);
    for (const dir of ["bin", "config", "launch", "models", "msg", "rviz"]) expect(existsSync(join(ROOT, dir)), dir).toBe(true);
    expect(cmake).toMatch(/ament_export_dependencies\(rosidl_default_runtime\)/);
    expect(cmake.trimEnd()).toMatch(/ament_package\(\)$/);
  });

  it("installs node_modules without devDependencies: the build's npm prune, run here on a linked copy", () => {
    // The same commands the custom command runs, on a hard-linked copy (no data copied).
    expect(cmake).toMatch(/COMMAND \$\{NPM\} prune --omit=dev --offline --ignore-scripts/);
    const staged = mkdtempSync(join(tmpdir(), "depthseg-runtime-"));
    try {
      for (const file of ["package.json", "package-lock.json"]) copyFileSync(join(ROOT, file), join(staged, file));
      // Hard links of the real folder (a symlinked node_modules, as in a git worktree, would be
      // copied as the link itself, and the prune would then empty the real one).
      execFileSync("cp", ["-al", realpathSync(join(ROOT, "node_modules")), join(staged, "node_modules")]);
      expect(lstatSync(join(staged, "node_modules")).isSymbolicLink()).toBe(false);
      execFileSync("npm", ["prune", "--omit=dev", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: staged, stdio: "pipe" });
      const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(staged, "node_modules", dep)), dep).toBe(true);
      // rclnodejs's own dependencies are devDependencies too (for the contract tests) and stay for it.
      // (@types/node is not among them: protobufjs 6, under onnx-proto, depends on it at run time.)
      for (const dev of ["vitest", "typescript", "tsx"]) {
        expect(pkg.devDependencies[dev], dev).toBeDefined();
        expect(existsSync(join(staged, "node_modules", dev)), dev).toBe(false);
      }
      expect(existsSync(join(ROOT, "node_modules", "vitest")), "the source tree keeps its dev dependencies").toBe(true);
    } finally {
      rmSync(staged, { recursive: true, force: true });
    }
  });

  it("installs every share/ file the launch files use, and those files exist", () => {
    const dirs = installed("DIRECTORY").get("share/${PROJECT_NAME}") ?? [];
    const launch = resolveLaunch(LAUNCH_PY, { rviz: "true" });
    const paths = [
      ...launch.arguments.map((a) => a.default ?? ""),
      ...launch.nodes.flatMap((n) => [...n.arguments, ...n.parameters.map((p) => String(p["file"] ?? ""))]),
    ].filter((p) => p.startsWith(`${SHARE}/`));
    expect(paths.sort()).toEqual([
      `${SHARE}/config/depthseg.params.yaml`,
      `${SHARE}/config/depthseg.params.yaml`,
      `${SHARE}/rviz/depthseg.rviz`,
    ]);
    for (const path of paths) {
      const relative = path.slice(SHARE.length + 1);
      expect(dirs, path).toContain(relative.split("/")[0]);
      expect(existsSync(join(ROOT, relative)), relative).toBe(true);
    }
  });
});

describe("rviz/depthseg.rviz", () => {
  interface Display {
    readonly Class: string;
    readonly Name: string;
    readonly Enabled: boolean;
    readonly Topic?: { Value: string; Depth: number; "Reliability Policy": string; "Durability Policy": string; "History Policy": string };
    readonly [key: string]: unknown;
  }
  interface RvizConfig {
    readonly Panels: readonly { Class: string }[];
    readonly "Visualization Manager": {
      readonly Displays: readonly Display[];
      readonly "Global Options": { "Fixed Frame": string };
      readonly Views: { Current: { Class: string } };
    };
  }
  const config = parse(readFileSync(join(ROOT, "rviz", "depthseg.rviz"), "utf8")) as RvizConfig;
  const manager = config["Visualization Manager"];
  const display = (name: string): Display | undefined => manager.Displays.find((d) => d.Name === name);
  const defaults = Object.fromEntries(helper<LaunchPyFacts>("launch-py", LAUNCH_PY).arguments.map((a) => [a.name, a.default]));

  it("shows the colorized images, the cloud both ways and the raw depth", () => {
    expect(display("Depth (colorized)")).toMatchObject({ Class: "rviz_default_plugins/Image", Enabled: true, Topic: { Value: "/depthseg/depth/colorized" } });
    expect(display("Labels (colorized)")).toMatchObject({ Class: "rviz_default_plugins/Image", Enabled: true, Topic: { Value: "/depthseg/segmentation/colorized" } });
    expect(display("Points (RGB)")).toMatchObject({
      Class: "rviz_default_plugins/PointCloud2", Enabled: true, "Color Transformer": "RGB8", Topic: { Value: "/depthseg/points" },
    });
    expect(display("Points (label)")).toMatchObject({
      Class: "rviz_default_plugins/PointCloud2", Enabled: false, "Color Transformer": "Intensity", "Channel Name": "label",
      Topic: { Value: "/depthseg/points" },
    });
    expect(display("Depth (32FC1 metres)")).toMatchObject({
      Class: "rviz_default_plugins/Image", Enabled: false, "Normalize Range": true, Topic: { Value: "/depthseg/depth/image" },
    });
    const classes = manager.Displays.map((d) => d.Class);
    expect(classes).toContain("rviz_default_plugins/Grid");
    expect(classes).toContain("rviz_default_plugins/TF");
    expect(manager.Views.Current.Class).toBe("rviz_default_plugins/Orbit");
    expect(config.Panels.map((p) => p.Class)).toContain("rviz_common/Displays");
  });

  it("subscribes only to the node's outputs under the launch default namespace, reliably", () => {
    const topics = new Set(Object.values(OUTPUT_TOPICS).map((t) => `/${defaults["namespace"]}/${t}`));
    const withTopic = manager.Displays.filter((d) => d.Topic !== undefined);
    expect(withTopic).toHaveLength(5);
    for (const d of withTopic) {
      expect([...topics], d.Name).toContain(d.Topic!.Value);
      expect(d.Topic, d.Name).toMatchObject({ "Reliability Policy": "Reliable", "Durability Policy": "Volatile", "History Policy": "Keep Last" });
    }
  });

  it("uses the launch files' fixed_frame default", () => {
    expect(manager["Global Options"]["Fixed Frame"]).toBe(defaults["fixed_frame"]);
    expect(defaults["fixed_frame"]).toBe("camera_color_optical_frame");
  });
});

describe("scripts/depthseg_node", () => {
  const script = join(ROOT, "scripts", "depthseg_node");

  /** An install prefix: lib/depthseg/depthseg_node (copied or symlinked) and share/depthseg (a link or a folder). */
  async function installPrefix(how: { script: "copy" | "symlink"; share: "repo" | "empty" }): Promise<{ prefix: string; bin: string }> {
    const prefix = await tempDir("depthseg-prefix-");
    const bin = join(prefix, "lib", "depthseg", "depthseg_node");
    mkdirSync(dirname(bin), { recursive: true });
    if (how.script === "copy") {
      copyFileSync(script, bin);
      chmodSync(bin, 0o755);
    } else {
      // colcon build --symlink-install links the installed program to the source file.
      symlinkSync(script, bin);
    }
    mkdirSync(join(prefix, "share"), { recursive: true });
    if (how.share === "repo") symlinkSync(ROOT, join(prefix, "share", "depthseg"));
    else mkdirSync(join(prefix, "share", "depthseg"));
    return { prefix, bin };
  }

  /** process.env without ROS 2 sourced. */
  function unsourcedEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env["ROS_DISTRO"];
    delete env["AMENT_PREFIX_PATH"];
    return env;
  }

  /** A PATH folder holding `dirname` and, when given, a `node` stand-in. */
  async function pathWith(node?: string): Promise<string> {
    const dir = await tempDir("depthseg-path-");
    const real = (process.env["PATH"] ?? "").split(delimiter).map((d) => join(d, "dirname")).find((p) => existsSync(p));
    expect(real, "dirname not found on PATH").toBeDefined();
    symlinkSync(real!, join(dir, "dirname"));
    if (node !== undefined) {
      copyFileSync(node, join(dir, "node"));
      chmodSync(join(dir, "node"), 0o755);
    }
    return dir;
  }

  it("is executable", () => {
    expect(statSync(script).mode & 0o111).toBe(0o111);
    expect(readFileSync(script, "utf8").split("\n")[0]).toBe("#!/bin/sh");
  });

  it.each(["copy", "symlink"] as const)("(%s install) runs `depthseg run` from share/depthseg, which needs ROS 2 sourced", async (how) => {
    expect(existsSync(join(ROOT, "dist", "cli.js")), "dist/cli.js is missing: run `npm run build` first").toBe(true);
    const { bin } = await installPrefix({ script: how, share: "repo" });
    const result = spawnSync(bin, ["--ros-args", "-r", "image:=/x"], { env: unsourcedEnv(), encoding: "utf8" });
    expect(result.error).toBeUndefined();
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain("ROS 2 is not sourced");
  });

  it("passes its arguments after `run` to node unchanged", async () => {
    const { prefix, bin } = await installPrefix({ script: "copy", share: "repo" });
    const fakeNode = join(prefix, "fake-node");
    // Prints each argument it gets on its own line.
    writeFileSync(fakeNode, '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    const env = { ...unsourcedEnv(), PATH: await pathWith(fakeNode) };
    const result = spawnSync(bin, ["--ros-args", "-r", "image:=/a b", "-p", "x:=1"], { env, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.split("\n").slice(0, -1)).toEqual([
      join(prefix, "share", "depthseg", "bin", "depthseg.js"), "run", "--ros-args", "-r", "image:=/a b", "-p", "x:=1",
    ]);
  });

  it("exits 1 naming the missing bin/depthseg.js when share/depthseg lacks it", async () => {
    const { prefix, bin } = await installPrefix({ script: "copy", share: "empty" });
    const result = spawnSync(bin, ["--ros-args"], { env: unsourcedEnv(), encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(join(prefix, "share", "depthseg", "bin", "depthseg.js"));
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("exits 1 saying so when node is not on PATH", async () => {
    const { bin } = await installPrefix({ script: "copy", share: "repo" });
    const result = spawnSync(bin, [], { env: { ...unsourcedEnv(), PATH: await pathWith() }, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/node .*is not on PATH/);
  });
});
