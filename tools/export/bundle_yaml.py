"""Write a depthseg model bundle's ``model.yaml``.

This module mirrors the schema that ``src/inference/bundle.ts`` accepts, so an exported bundle
fails here, at export time, instead of at ``depthseg`` start-up. Keep the two in step: the
constants below are copied from bundle.ts (``RESIZE_MODES``, ``INTERPOLATIONS``,
``COLOR_ORDERS``, ``DEPTH_KINDS``, the key lists) and the checks follow ``parseInput`` /
``parseDepth`` / ``parseOutputs`` / ``checkRouting``.

Schema (only what depthseg reads; unknown keys are rejected by bundle.ts)::

    name: <string>                   # optional, default: the folder name
    trained_on: <free text>          # optional: what the model was trained on (e.g. hypersim); replay and status say it
    warning: <free text>             # optional: a limit every run prints (e.g. "not for real scenes")
    file: <path of the .onnx>        # optional when the folder holds exactly one .onnx
    input:
      name: <graph input name>       # required
      size: [height, width]          # required, integers 1..16384, multiples of multiple_of
      multiple_of: <int>             # default 1
      resize: keep_aspect_lower_bound | stretch        # default keep_aspect_lower_bound
      interpolation: nearest | linear | cubic | area   # default linear
      resize_on: uint8 | float       # default uint8; float: resize image/255 in float (DA-V2 infer_image)
      mean: [r, g, b]                # required, on the 0..1 scale, R G B order
      std: [r, g, b]                 # required, > 0
      color: rgb | bgr               # default rgb (tensor plane order)
    outputs:
      depth: { name: <graph output>, kind: metric | relative_disparity | relative_depth,
               max_depth: <metres, required and > 0 for metric; optional clip otherwise>,
               canonical_focal: <pixels > 0, metric only>,
               upsample: half_pixel | align_corners }   # to the camera; default half_pixel
                                     # required, except that a routed bundle (heads) leaves it out
      segmentation: { name: <graph output>, labels: labels.yaml }   # optional (not written here)
      domain: { name: <graph output>, classes: [a, b, ...] }        # routed only: >= 2 distinct
      confidence: { name: <graph output>, activation: identity | expp1 }  # optional, shaped like depth:
                                     # published as depth/confidence in 0..1 (identity: clipped;
                                     # expp1, c = 1 + exp(x) as Depth Anything 3's: 1 - 1/c)
      sky: { name: <graph output>, threshold: <number > 0> }        # optional, shaped like depth:
                                     # pixels whose sky value is >= threshold get NaN depth
      features: { name: <graph output>, stride: <int 1..1024> }  # optional: [1, C, H/stride, W/stride],
                                     # the map `depthseg fit-head` fits a segmentation head on
    heads:                           # routed only (ZoeDepth-style): exactly one per domain class
      <class>: { name: <graph output>, kind: metric, max_depth: <metres > 0> }

Every graph output name (depth, domain, each head) must be distinct. depthseg takes the argmax of
the domain output's class means per frame and publishes that class's head.

No third-party imports: the exporters run in the model's own Python environment, which may not
have PyYAML.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

# --- copied from src/inference/bundle.ts ------------------------------------------------------
RESIZE_MODES = ("keep_aspect_lower_bound", "stretch")
INTERPOLATIONS = ("nearest", "linear", "cubic", "area")
COLOR_ORDERS = ("rgb", "bgr")
DEPTH_KINDS = ("metric", "relative_disparity", "relative_depth")
TOP_KEYS = ("name", "file", "trained_on", "warning", "input", "outputs", "heads")
INPUT_KEYS = ("name", "size", "multiple_of", "resize", "interpolation", "resize_on", "mean", "std", "color")
DEPTH_KEYS = ("name", "kind", "max_depth", "canonical_focal", "upsample")
RESIZE_ON = ("uint8", "float")
DEPTH_UPSAMPLES = ("half_pixel", "align_corners")
OUTPUT_KEYS = ("depth", "segmentation", "domain", "confidence", "sky", "features")
FEATURES_KEYS = ("name", "stride")
CONFIDENCE_ACTIVATIONS = ("identity", "expp1")
SKY_KEYS = ("name", "threshold")
# Defaults bundle.ts applies when a key is absent (we always write every key anyway).
DEFAULTS = {"multiple_of": 1, "resize": "keep_aspect_lower_bound", "interpolation": "linear", "color": "rgb",
            "resize_on": "uint8", "upsample": "half_pixel"}
# ----------------------------------------------------------------------------------------------

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# For graphs that normalise inside (ZoeDepth): the tensor is just pixel / 255.
IDENTITY_MEAN = (0.0, 0.0, 0.0)
IDENTITY_STD = (1.0, 1.0, 1.0)


class BundleSchemaError(ValueError):
    """A value bundle.ts would reject."""


@dataclass(frozen=True)
class InputSpec:
    name: str
    height: int
    width: int
    multiple_of: int = 1
    resize: str = "keep_aspect_lower_bound"
    interpolation: str = "linear"
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    color: str = "rgb"
    # None: not written (bundle.ts then resizes the uint8 image).
    resize_on: Optional[str] = None


@dataclass(frozen=True)
class DepthOutput:
    name: str
    kind: str
    max_depth: Optional[float] = None
    # Canonical-camera metric models (Depth Anything 3 Metric: 300): metres = output * f / canonical_focal.
    canonical_focal: Optional[float] = None
    # How depthseg resizes the output to the camera; None: not written (half_pixel).
    upsample: Optional[str] = None


@dataclass(frozen=True)
class DomainOutput:
    """The router output: [1, C] or [1, C, H, W] logits, C = len(classes)."""
    name: str
    classes: Tuple[str, ...]


@dataclass(frozen=True)
class ConfidenceOutput:
    """A per-pixel confidence map shaped like the depth output (Depth Anything 3: depth_conf,
    activation expp1)."""
    name: str
    activation: str = "identity"


@dataclass(frozen=True)
class SkyOutput:
    """A sky map shaped like the depth output: depth is NaN where its value is >= threshold."""
    name: str
    threshold: float


@dataclass(frozen=True)
class FeaturesOutput:
    """A feature map [1, C, H/stride, W/stride] (rounded as the network rounds) for `depthseg
    fit-head`; depthseg runs do not fetch it."""
    name: str
    stride: int


@dataclass
class ModelYaml:
    name: str
    input: InputSpec
    # None for a routed bundle: depth then comes from `heads`.
    depth: Optional[DepthOutput]
    file: Optional[str] = None
    # Free-form lines written as `# ...` at the top (provenance, how it was exported).
    comments: List[str] = field(default_factory=list)
    domain: Optional[DomainOutput] = None
    # Domain class -> its metric head, written in this order.
    heads: Dict[str, DepthOutput] = field(default_factory=dict)
    # Free text: what the model was trained on, and a limit every run should print.
    trained_on: Optional[str] = None
    warning: Optional[str] = None
    confidence: Optional[ConfidenceOutput] = None
    sky: Optional[SkyOutput] = None
    features: Optional[FeaturesOutput] = None


def _fail(path: str, message: str) -> None:
    raise BundleSchemaError(f"model.yaml: {path}: {message}")


def _check_name(value: str, path: str) -> None:
    if not isinstance(value, str) or value.strip() == "":
        _fail(path, f"must be a non-empty string, got {value!r}")


def _check_int(value: int, path: str, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        _fail(path, f"must be an integer in {lo}..{hi}, got {value!r}")


def _check_number(value: float, path: str, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(path, f"must be a finite number, got {value!r}")
    if positive and value <= 0:
        _fail(path, f"must be > 0, got {value!r}")


def validate(doc: ModelYaml) -> None:
    """Raises BundleSchemaError for anything src/inference/bundle.ts would refuse."""
    _check_name(doc.name, "name")
    if doc.file is not None:
        _check_name(doc.file, "file")
    if doc.trained_on is not None:
        _check_name(doc.trained_on, "trained_on")
    if doc.warning is not None:
        _check_name(doc.warning, "warning")
    i = doc.input
    _check_name(i.name, "input.name")
    _check_int(i.multiple_of, "input.multiple_of", 1, 4096)
    _check_int(i.height, "input.size[0]", 1, 16384)
    _check_int(i.width, "input.size[1]", 1, 16384)
    if i.height % i.multiple_of or i.width % i.multiple_of:
        _fail("input.size", f"[{i.height}, {i.width}] (height, width) must be multiples of multiple_of {i.multiple_of}")
    if i.resize not in RESIZE_MODES:
        _fail("input.resize", f"unknown resize mode {i.resize!r} (expected {' | '.join(RESIZE_MODES)})")
    if i.interpolation not in INTERPOLATIONS:
        _fail("input.interpolation", f"unknown interpolation {i.interpolation!r} (expected {' | '.join(INTERPOLATIONS)})")
    if i.resize_on is not None and i.resize_on not in RESIZE_ON:
        _fail("input.resize_on", f"unknown resize_on {i.resize_on!r} (expected {' | '.join(RESIZE_ON)})")
    if i.color not in COLOR_ORDERS:
        _fail("input.color", f"unknown color order {i.color!r} (expected {' | '.join(COLOR_ORDERS)})")
    for key, triple, positive in (("mean", i.mean, False), ("std", i.std, True)):
        if len(triple) != 3:
            _fail(f"input.{key}", f"must have 3 items, got {len(triple)}")
        for k, v in enumerate(triple):
            _check_number(v, f"input.{key}[{k}]", positive)
    routed = bool(doc.heads)
    # As parseOutputs: with heads, the routed head is the depth output, so a second one is refused.
    if routed and doc.depth is not None:
        _fail("outputs.depth", "must be left out when `heads` are given: depth comes from the head outputs.domain picks")
    if not routed and doc.depth is None:
        _fail("outputs.depth", "is required (every bundle needs a depth output)")
    used: Dict[str, str] = {}

    def claim(name: str, path: str) -> None:
        if name in used:
            _fail(f"{path}.name", f"{name!r} is already used by {used[name]}")
        used[name] = path

    for key, head in doc.heads.items():
        _check_name(key, "heads (a key)")
        _check_depth(head, f"heads.{key}")
        claim(head.name, f"heads.{key}")
    if doc.depth is not None:
        _check_depth(doc.depth, "outputs.depth")
        claim(doc.depth.name, "outputs.depth")
    if doc.domain is not None:
        _check_name(doc.domain.name, "outputs.domain.name")
        claim(doc.domain.name, "outputs.domain")
        classes = doc.domain.classes
        if isinstance(classes, str):
            _fail("outputs.domain.classes", f"must be a list of class names, got {classes!r}")
        for k, cls in enumerate(classes):
            _check_name(cls, f"outputs.domain.classes[{k}]")
        if len(classes) < 2:
            _fail("outputs.domain.classes", "must list at least two classes")
        if len(set(classes)) != len(classes):
            _fail("outputs.domain.classes", "has duplicates")
    if doc.confidence is not None:
        _check_name(doc.confidence.name, "outputs.confidence.name")
        claim(doc.confidence.name, "outputs.confidence")
        if doc.confidence.activation not in CONFIDENCE_ACTIVATIONS:
            _fail("outputs.confidence.activation",
                  f"unknown activation {doc.confidence.activation!r} (expected {' | '.join(CONFIDENCE_ACTIVATIONS)})")
    if doc.sky is not None:
        _check_name(doc.sky.name, "outputs.sky.name")
        claim(doc.sky.name, "outputs.sky")
        _check_number(doc.sky.threshold, "outputs.sky.threshold", positive=True)
    if doc.features is not None:
        _check_name(doc.features.name, "outputs.features.name")
        claim(doc.features.name, "outputs.features")
        _check_int(doc.features.stride, "outputs.features.stride", 1, 1024)
    _check_routing(doc.domain, doc.heads)


def _check_depth(d: DepthOutput, path: str) -> None:
    _check_name(d.name, f"{path}.name")
    if d.kind not in DEPTH_KINDS:
        _fail(f"{path}.kind", f"unknown depth kind {d.kind!r} (expected {' | '.join(DEPTH_KINDS)})")
    if d.kind == "metric" and d.max_depth is None:
        _fail(f"{path}.max_depth", "is required for metric depth (metres, > 0)")
    if d.max_depth is not None:
        _check_number(d.max_depth, f"{path}.max_depth", positive=True)
    if d.upsample is not None and d.upsample not in DEPTH_UPSAMPLES:
        _fail(f"{path}.upsample", f"unknown upsample {d.upsample!r} (expected {' | '.join(DEPTH_UPSAMPLES)})")
    if d.canonical_focal is not None:
        if d.kind != "metric":
            _fail(f"{path}.canonical_focal", f"applies to metric depth only (this output is {d.kind})")
        _check_number(d.canonical_focal, f"{path}.canonical_focal", positive=True)


def _check_routing(domain: Optional[DomainOutput], heads: Dict[str, DepthOutput]) -> None:
    """As checkRouting: classes and heads pair up one to one, or routing could pick a missing head."""
    if not heads:
        if domain is not None:
            _fail("outputs.domain", "needs `heads` (one depth head per domain class)")
        return
    if domain is None:
        _fail("heads", "needs outputs.domain to choose between them")
    for cls in domain.classes:
        if cls not in heads:
            _fail("heads", f"has no head for domain class {cls!r}")
    for key, head in heads.items():
        if key not in domain.classes:
            _fail(f"heads.{key}", f"is not a class of outputs.domain ({', '.join(domain.classes)})")
        if head.kind != "metric":
            _fail(f"heads.{key}.kind", "must be metric (routing picks between metric heads)")


def _s(value: str) -> str:
    # JSON strings are valid YAML flow scalars; names here are plain identifiers anyway.
    return json.dumps(value)


def _n(value: float) -> str:
    # repr keeps full precision; whole numbers keep a ".0" so they read as metres/floats.
    return repr(float(value))


def _triple(values: Sequence[float]) -> str:
    return "[" + ", ".join(_n(v) for v in values) + "]"


def render(doc: ModelYaml) -> str:
    """model.yaml text for `doc` (validated first)."""
    validate(doc)
    i = doc.input
    lines = [f"# {c}" if c else "#" for c in doc.comments]
    lines.append(f"name: {_s(doc.name)}")
    if doc.file is not None:
        lines.append(f"file: {_s(doc.file)}")
    if doc.trained_on is not None:
        lines.append(f"trained_on: {_s(doc.trained_on)}")
    if doc.warning is not None:
        lines.append(f"warning: {_s(doc.warning)}")
    lines += [
        "input:",
        f"  name: {_s(i.name)}",
        f"  size: [{i.height}, {i.width}]          # [height, width]",
        f"  multiple_of: {i.multiple_of}",
        f"  resize: {i.resize}",
        f"  interpolation: {i.interpolation}",
    ] + ([f"  resize_on: {i.resize_on}"] if i.resize_on is not None else []) + [
        f"  mean: {_triple(i.mean)}",
        f"  std: {_triple(i.std)}",
        f"  color: {i.color}",
        "outputs:",
    ]
    if doc.depth is not None:
        lines.append(f"  depth: {_depth_flow(doc.depth)}")
    if doc.domain is not None:
        classes = ", ".join(_s(c) for c in doc.domain.classes)
        lines.append(f"  domain: {{ name: {_s(doc.domain.name)}, classes: [{classes}] }}")
    if doc.confidence is not None:
        lines.append(f"  confidence: {{ name: {_s(doc.confidence.name)}, activation: {doc.confidence.activation} }}")
    if doc.sky is not None:
        lines.append(f"  sky: {{ name: {_s(doc.sky.name)}, threshold: {_n(doc.sky.threshold)} }}")
    if doc.features is not None:
        lines.append(f"  features: {{ name: {_s(doc.features.name)}, stride: {doc.features.stride} }}")
    if doc.heads:
        # Quoted keys: a class named e.g. `null` or `true` must stay a string.
        lines.append("heads:")
        lines += [f"  {_s(key)}: {_depth_flow(head)}" for key, head in doc.heads.items()]
    return "\n".join(lines) + "\n"


def _depth_flow(d: DepthOutput) -> str:
    text = f"{{ name: {_s(d.name)}, kind: {d.kind}"
    if d.max_depth is not None:
        text += f", max_depth: {_n(d.max_depth)}"
    if d.canonical_focal is not None:
        text += f", canonical_focal: {_n(d.canonical_focal)}"
    if d.upsample is not None:
        text += f", upsample: {d.upsample}"
    return text + " }"


def write(doc: ModelYaml, bundle_dir: str) -> str:
    """Writes <bundle_dir>/model.yaml and returns its path."""
    text = render(doc)
    os.makedirs(bundle_dir, exist_ok=True)
    path = os.path.join(bundle_dir, "model.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def parse_size(text: str) -> Tuple[int, int]:
    """'640x480' (width x height, as cameras are usually quoted) -> (width, height)."""
    try:
        w, h = text.lower().split("x")
        width, height = int(w), int(h)
    except ValueError:
        raise ValueError(f"expected WIDTHxHEIGHT, e.g. 640x480, got {text!r}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"camera size must be positive, got {text!r}")
    return width, height
