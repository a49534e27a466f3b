"""Facts about the ROS 2 packaging files, as JSON, for tests/rosPackage.test.ts.

ROS 2 (launch, launch_ros, launch_xml) is not installed where the tests run, so nothing here imports it:

  launch-py FILE             static facts of a Python launch file (ast)
  launch-xml FILE            static facts of an XML launch file (xml.etree)
  resolve FILE [NAME:=VALUE ...]
                             the nodes a launch file (.py or .xml) would start with those arguments,
                             with every substitution resolved. Python files run against recording stubs
                             of the few launch classes they use; XML substitutions ($(var), $(eval),
                             $(find-pkg-share)) are parsed by a small parser of ROS 2's grammar. Both
                             give the same shape, so the test can compare the two files' behaviour.
  package-xml FILE           fields of a package.xml (format 3)

Usage: python3 launchInfo.py MODE FILE [...]
"""

from __future__ import annotations

import ast
import json
import re
import sys
import types
import xml.etree.ElementTree as ET
from typing import Any, Callable

# Where the resolvers pretend `find-pkg-share` / FindPackageShare finds packages.
SHARE_ROOT = "/opt/ros/test/share"

Json = Any


# ---------------------------------------------------------------------------------------------
# Static facts


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal_or_source(node: ast.AST, source: str) -> Json:
    """A string literal's value; otherwise the expression's source text."""
    try:
        value = ast.literal_eval(node)
        if isinstance(value, str):
            return value
    except ValueError:
        pass
    return ast.get_source_segment(source, node)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def launch_py_facts(path: str) -> Json:
    source = open(path, encoding="utf-8").read()
    tree = ast.parse(source, filename=path)
    arguments: list[Json] = []
    nodes: list[Json] = []
    remappings: list[Json] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name == "DeclareLaunchArgument":
            default = _keyword(node, "default_value")
            description = _keyword(node, "description")
            arguments.append({
                "line": node.lineno,
                "name": _literal_or_source(node.args[0], source),
                "default": None if default is None else _literal_or_source(default, source),
                "description": None if description is None else _literal_or_source(description, source),
            })
        elif name == "Node":
            facts = {k.arg: _literal_or_source(k.value, source) for k in node.keywords if k.arg}
            nodes.append(facts)
            remap = _keyword(node, "remappings")
            if isinstance(remap, (ast.List, ast.Tuple)):
                for pair in remap.elts:
                    if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                        remappings.append([_literal_or_source(e, source) for e in pair.elts])
    # ast.walk is breadth-first; the declaration order is what users see in `ros2 launch -s`.
    arguments.sort(key=lambda a: a.pop("line"))
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    return {"functions": functions, "arguments": arguments, "nodes": nodes, "remappings": remappings}


def launch_xml_facts(path: str) -> Json:
    root = ET.parse(path).getroot()
    return {
        "root": root.tag,
        "arguments": [
            {"name": a.get("name"), "default": a.get("default"), "description": a.get("description")}
            for a in root.findall("arg")
        ],
        "nodes": [
            {
                "attributes": dict(n.attrib),
                "params": [dict(p.attrib) for p in n.findall("param")],
                "remaps": [dict(r.attrib) for r in n.findall("remap")],
            }
            for n in root.findall("node")
        ],
    }


def package_xml_facts(path: str) -> Json:
    root = ET.parse(path).getroot()
    depends: dict[str, list[str]] = {}
    for tag in ("buildtool_depend", "depend", "build_depend", "exec_depend", "test_depend"):
        depends[tag] = [(e.text or "").strip() for e in root.findall(tag)]
    export = root.find("export")
    build_type = export.find("build_type") if export is not None else None
    return {
        "root": root.tag,
        "format": root.get("format"),
        "name": root.findtext("name"),
        "version": root.findtext("version"),
        "description": (root.findtext("description") or "").strip(),
        "license": root.findtext("license"),
        "maintainers": [{"name": (m.text or "").strip(), "email": m.get("email")} for m in root.findall("maintainer")],
        "depends": depends,
        "groups": [(e.text or "").strip() for e in root.findall("member_of_group")],
        "buildType": None if build_type is None else build_type.text,
    }


# ---------------------------------------------------------------------------------------------
# Resolution: the nodes a launch file starts, in one shape for both formats:
#   {"package", "executable", "name", "namespace", "output",
#    "parameters": [{"file": path} | {name: value}], "remappings": [[from, to]], "arguments": [...]}


def _truthy(text: str) -> bool:
    """launch's evaluate_condition_expression."""
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"condition must be true/false/1/0, got {text!r}")


class _Context:
    def __init__(self, overrides: dict[str, str]) -> None:
        self.launch_configurations: dict[str, str] = dict(overrides)


class _Substitution:
    def perform(self, context: _Context) -> str:
        raise NotImplementedError


def _perform(value: Any, context: _Context) -> str:
    """A substitution, a string, or a list of them (concatenated), as launch does."""
    if isinstance(value, str):
        return value
    if isinstance(value, _Substitution):
        return value.perform(context)
    if isinstance(value, (list, tuple)):
        return "".join(_perform(v, context) for v in value)
    raise TypeError(f"not a substitution: {value!r}")


def _python_stubs() -> dict[str, types.ModuleType]:
    """Modules standing in for launch / launch_ros: they record arguments and resolve substitutions."""

    class LaunchConfiguration(_Substitution):
        def __init__(self, variable_name: str, default: Any = None) -> None:
            self.name, self.default = variable_name, default

        def perform(self, context: _Context) -> str:
            if self.name in context.launch_configurations:
                return context.launch_configurations[self.name]
            if self.default is None:
                raise KeyError(f"launch configuration {self.name!r} is not set")
            return _perform(self.default, context)

    class PathJoinSubstitution(_Substitution):
        def __init__(self, substitutions: list[Any]) -> None:
            self.parts = substitutions

        def perform(self, context: _Context) -> str:
            return "/".join(_perform(p, context) for p in self.parts)

    class PythonExpression(_Substitution):
        def __init__(self, expression: list[Any]) -> None:
            self.expression = expression

        def perform(self, context: _Context) -> str:
            return str(eval(_perform(self.expression, context), {}))

    class TextSubstitution(_Substitution):
        def __init__(self, *, text: str) -> None:
            self.text = text

        def perform(self, context: _Context) -> str:
            return self.text

    class FindPackageShare(_Substitution):
        def __init__(self, package: Any) -> None:
            self.package = package

        def perform(self, context: _Context) -> str:
            return f"{SHARE_ROOT}/{_perform(self.package, context)}"

    class IfCondition:
        def __init__(self, predicate_expression: Any) -> None:
            self.predicate = predicate_expression

        def evaluate(self, context: _Context) -> bool:
            return _truthy(_perform(self.predicate, context))

    class UnlessCondition(IfCondition):
        def evaluate(self, context: _Context) -> bool:
            return not super().evaluate(context)

    class Action:
        def __init__(self, *, condition: Any = None) -> None:
            self.condition = condition

    class DeclareLaunchArgument(Action):
        def __init__(self, name: str, *, default_value: Any = None, description: str = "", **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.name, self.default_value, self.description = name, default_value, description

    class OpaqueFunction(Action):
        def __init__(self, *, function: Callable[..., Any], args: Any = None, kwargs: Any = None, **rest: Any) -> None:
            super().__init__(**rest)
            self.function, self.args, self.kwargs = function, args or [], kwargs or {}

    class Node(Action):
        def __init__(self, *, executable: Any, package: Any = None, name: Any = None, namespace: Any = None,
                     output: str | None = None, parameters: Any = None, remappings: Any = None,
                     arguments: Any = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.fields = dict(package=package, executable=executable, name=name, namespace=namespace,
                               output=output, parameters=parameters or [], remappings=remappings or [],
                               arguments=arguments or [])

    class LaunchDescription:
        def __init__(self, initial_entities: list[Any] | None = None) -> None:
            self.entities = list(initial_entities or [])

    def module(name: str, **members: Any) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(members)
        return mod

    return {
        "launch": module("launch", LaunchDescription=LaunchDescription, LaunchContext=_Context),
        "launch.actions": module("launch.actions", DeclareLaunchArgument=DeclareLaunchArgument,
                                 OpaqueFunction=OpaqueFunction),
        "launch.conditions": module("launch.conditions", IfCondition=IfCondition, UnlessCondition=UnlessCondition),
        "launch.substitutions": module("launch.substitutions", LaunchConfiguration=LaunchConfiguration,
                                       PathJoinSubstitution=PathJoinSubstitution, PythonExpression=PythonExpression,
                                       TextSubstitution=TextSubstitution),
        "launch_ros": module("launch_ros"),
        "launch_ros.actions": module("launch_ros.actions", Node=Node),
        "launch_ros.substitutions": module("launch_ros.substitutions", FindPackageShare=FindPackageShare),
    }


def resolve_python(path: str, overrides: dict[str, str]) -> Json:
    stubs = _python_stubs()
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        namespace: dict[str, Any] = {"__file__": path, "__name__": "launch_file"}
        exec(compile(open(path, encoding="utf-8").read(), path, "exec"), namespace)
        description = namespace["generate_launch_description"]()
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous

    context = _Context(overrides)
    arguments: list[Json] = []
    nodes: list[Json] = []

    def visit(entity: Any) -> None:
        kind = type(entity).__name__
        if getattr(entity, "condition", None) is not None and not entity.condition.evaluate(context):
            return
        if kind == "DeclareLaunchArgument":
            default = None if entity.default_value is None else _perform(entity.default_value, context)
            arguments.append({"name": entity.name, "default": default, "description": entity.description})
            if default is not None:
                context.launch_configurations.setdefault(entity.name, default)
        elif kind == "OpaqueFunction":
            for child in entity.function(context, *entity.args, **entity.kwargs) or []:
                visit(child)
        elif kind == "Node":
            f = entity.fields
            parameters: list[Json] = []
            for p in f["parameters"]:
                if isinstance(p, dict):
                    parameters.append({_perform(k, context): v if isinstance(v, (bool, int, float)) else _perform(v, context)
                                       for k, v in p.items()})
                else:
                    parameters.append({"file": _perform(p, context)})
            nodes.append({
                "package": _perform(f["package"], context),
                "executable": _perform(f["executable"], context),
                "name": None if f["name"] is None else _perform(f["name"], context),
                "namespace": None if f["namespace"] is None else _perform(f["namespace"], context),
                "output": f["output"],
                "parameters": parameters,
                "remappings": [[_perform(a, context), _perform(b, context)] for a, b in f["remappings"]],
                "arguments": [_perform(a, context) for a in f["arguments"]],
            })
        else:
            raise TypeError(f"the resolver does not know {kind}")

    for entity in description.entities:
        visit(entity)
    return {"arguments": arguments, "nodes": nodes}


# XML substitutions, after launch/frontend/grammar.lark: `$(name arg arg)`, arguments separated by one
# space, each unquoted or a '...' / "..." template that may itself contain substitutions; `\x` escapes x.

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
Parts = list[Any]  # str | tuple[str, list[Parts]]


def _parse_parts(text: str, i: int, stop: str) -> tuple[Parts, int]:
    parts: Parts = []
    buffer = ""
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            buffer += text[i + 1]
            i += 2
        elif text.startswith("$(", i):
            if buffer:
                parts.append(buffer)
                buffer = ""
            substitution, i = _parse_substitution(text, i)
            parts.append(substitution)
        elif c in stop:
            break
        else:
            buffer += c
            i += 1
    if buffer:
        parts.append(buffer)
    return parts, i


def _parse_substitution(text: str, i: int) -> tuple[Any, int]:
    match = _IDENTIFIER.match(text, i + 2)
    if not match:
        raise ValueError(f"bad substitution at {i} in {text!r}")
    name, i = match.group(), match.end()
    arguments: list[Parts] = []
    while i < len(text) and text[i] == " ":
        i += 1
        if i < len(text) and text[i] in "'\"":
            quote = text[i]
            argument, i = _parse_parts(text, i + 1, quote)
            if i >= len(text) or text[i] != quote:
                raise ValueError(f"unterminated {quote} in {text!r}")
            i += 1
        else:
            argument, i = _parse_parts(text, i, " ()'\"")
        arguments.append(argument)
    if i >= len(text) or text[i] != ")":
        raise ValueError(f"expected ) at {i} in {text!r}")
    return (name, arguments), i + 1


def _resolve_xml_text(text: str, values: dict[str, str]) -> str:
    parts, end = _parse_parts(text, 0, "")
    assert end == len(text)

    def perform(parts: Parts) -> str:
        out = ""
        for part in parts:
            if isinstance(part, str):
                out += part
                continue
            name, arguments = part
            args = [perform(a) for a in arguments]
            if name == "var":
                out += values[args[0]]
            elif name == "find-pkg-share":
                out += f"{SHARE_ROOT}/{args[0]}"
            elif name == "eval":
                if len(args) != 1:
                    raise ValueError(f"$(eval) takes one argument (quote it), got {len(args)} in {text!r}")
                out += str(eval(args[0], {}))
            else:
                raise ValueError(f"the resolver does not know $({name})")
        return out

    return perform(parts)


def resolve_xml(path: str, overrides: dict[str, str]) -> Json:
    root = ET.parse(path).getroot()
    values = dict(overrides)
    arguments: list[Json] = []
    nodes: list[Json] = []
    for element in root:
        condition_if, condition_unless = element.get("if"), element.get("unless")
        if condition_if is not None and not _truthy(_resolve_xml_text(condition_if, values)):
            continue
        if condition_unless is not None and _truthy(_resolve_xml_text(condition_unless, values)):
            continue

        def attr(name: str, of: ET.Element = element) -> str | None:
            value = of.get(name)
            return None if value is None else _resolve_xml_text(value, values)

        if element.tag == "arg":
            default = attr("default")
            arguments.append({"name": element.get("name"), "default": default, "description": element.get("description")})
            if default is not None:
                values.setdefault(element.get("name", ""), default)
        elif element.tag == "node":
            parameters: list[Json] = []
            for p in element.findall("param"):
                source = attr("from", p)
                parameters.append({"file": source} if source is not None else {p.get("name"): attr("value", p)})
            args = attr("args")
            nodes.append({
                "package": attr("pkg"),
                "executable": attr("exec"),
                "name": attr("name"),
                "namespace": attr("namespace"),
                "output": attr("output"),
                "parameters": parameters,
                "remappings": [[attr("from", r), attr("to", r)] for r in element.findall("remap")],
                # launch_ros splits `args` on whitespace (paths here have none).
                "arguments": [] if args is None else args.split(),
            })
        else:
            raise ValueError(f"the resolver does not know <{element.tag}>")
    return {"arguments": arguments, "nodes": nodes}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    mode, path, rest = argv[0], argv[1], argv[2:]
    if mode == "launch-py":
        result = launch_py_facts(path)
    elif mode == "launch-xml":
        result = launch_xml_facts(path)
    elif mode == "package-xml":
        result = package_xml_facts(path)
    elif mode == "resolve":
        overrides = dict(a.split(":=", 1) for a in rest)
        result = resolve_python(path, overrides) if path.endswith(".py") else resolve_xml(path, overrides)
    else:
        sys.stderr.write(f"unknown mode {mode}\n")
        return 2
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
