"""Shared pieces of the depthseg exporters: sizes, torch.onnx.export, graph checks.

Imported by export_depth_anything_v2.py and export_zoedepth.py (same folder). Needs torch;
``onnx`` is optional (used to check the written graph when installed).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import sys
import warnings
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch

OPSET = 17


def log(message: str) -> None:
    print(f"[export] {message}", file=sys.stderr, flush=True)


# --- input sizes ------------------------------------------------------------------------------

def _round_half_even(x: float) -> int:
    # Python's round() is numpy's np.round for scalars: halves go to the even neighbour.
    return int(round(x))


def lower_bound_size(src_w: int, src_h: int, target_h: int, target_w: int, multiple: int) -> Tuple[int, int]:
    """(height, width) that depthseg's `keep_aspect_lower_bound` resize (and Depth Anything's
    Resize(keep_aspect_ratio=True, resize_method='lower_bound')) gives a src_w x src_h image:
    scale so both sides reach the target, then round each side to the nearest multiple, or up
    when that falls below the target. Same rule as modelInputSize in src/inference/preprocess.ts."""
    scale_w, scale_h = target_w / src_w, target_h / src_h
    if scale_w > scale_h:
        scale_h = scale_w
    else:
        scale_w = scale_h

    def constrain(x: float, lo: int) -> int:
        y = _round_half_even(x / multiple) * multiple
        if y < lo:
            y = math.ceil(x / multiple) * multiple
        return y

    return constrain(scale_h * src_h, target_h), constrain(scale_w * src_w, target_w)


def minimal_size(src_w: int, src_h: int, target_h: int, target_w: int, multiple: int) -> Tuple[int, int]:
    """(height, width) that ZoeDepth's MidasCore resize (keep aspect, resize_method='minimal',
    ensure_multiple_of=32) gives a src_w x src_h image: the scale closer to 1 wins, then each
    side is rounded to the nearest multiple."""
    scale_w, scale_h = target_w / src_w, target_h / src_h
    if abs(1 - scale_w) < abs(1 - scale_h):
        scale_h = scale_w
    else:
        scale_w = scale_h
    return (_round_half_even(scale_h * src_h / multiple) * multiple,
            _round_half_even(scale_w * src_w / multiple) * multiple)


# --- export -----------------------------------------------------------------------------------

def export_onnx(
    module: torch.nn.Module,
    example: torch.Tensor,
    path: str,
    input_name: str,
    output_names: Sequence[str],
    dynamic_hw: bool,
    opset: int = OPSET,
    fp16: bool = False,
) -> None:
    """torch.onnx.export with the TorchScript (tracing) exporter.

    `dynamic_hw` marks input dims 2 and 3 (and the same dims of 4-D outputs) as symbolic. The
    batch stays 1: depthseg always runs one frame at a time. `fp16`: then the graph is converted
    to float16 with attention and layer norms kept in float32 and float32 inputs/outputs
    (fp16.py; needs the onnx package)."""
    if fp16:
        try:
            import fp16 as fp16_pass  # noqa: PLC0415 - same folder; needs onnx
        except ImportError as err:
            raise SystemExit(f"--fp16 needs the onnx Python package ({err})") from err
    module.eval()
    kwargs = dict(
        input_names=[input_name],
        output_names=list(output_names),
        opset_version=opset,
        do_constant_folding=True,
    )
    if dynamic_hw:
        axes: Dict[str, Dict[int, str]] = {input_name: {2: "height", 3: "width"}}
        for k, name in enumerate(output_names):
            # The first (depth) output keeps the names it always had; a later one at another
            # resolution (a features map) needs its own, or onnx would claim equal sizes.
            axes[name] = {2: "out_height", 3: "out_width"} if k == 0 else {2: f"{name}_height", 3: f"{name}_width"}
        kwargs["dynamic_axes"] = axes
    # torch >= 2.5 has a `dynamo` switch and newer releases default it to True; these scripts are
    # written for (and tested with) the tracing exporter, so ask for it explicitly.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # Tracer warnings ("Converting a tensor to a Python integer ...") are expected: the
        # wrappers below remove the ones that matter for dynamic shapes, the rest are constants.
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, (example,), path, **kwargs)
    log(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB, opset {opset}, "
        f"{'dynamic' if dynamic_hw else 'static'} H/W)")
    if fp16:
        fp16_pass.convert_file(path, log=log)
        log(f"converted {path} to float16, attention and layer norms float32 ({os.path.getsize(path) / 1e6:.1f} MB)")


# --- features for `depthseg fit-head` ----------------------------------------------------------

FEATURES_OUTPUT = "features"


def add_features_argument(parser, choices: Dict[str, str], default: str) -> None:
    """The exporters' shared --features option: `choices` maps each choice to what it exposes."""
    listing = "; ".join(f"{k}: {v}" for k, v in choices.items())
    parser.add_argument("--features", nargs="?", const=default, choices=sorted(choices), default=None,
                        metavar="{" + ",".join(sorted(choices)) + "}",
                        help=f"also output a feature map named {FEATURES_OUTPUT!r} for `depthseg fit-head`, declared in "
                             f"model.yaml as outputs.features (bare --features: {default}). {listing}")


class FeatureTap:
    """Keeps one tensor seen during a forward: the input (`where="input"`, a forward pre-hook) or
    the output (`where="output"`) of `module`, passed through `pick`. The exporters' wrappers call
    the upstream forward unchanged and return take() as an extra output, so the depth part of the
    traced graph is the one exported without it."""

    def __init__(self, module: torch.nn.Module, pick, where: str = "input") -> None:
        self.pick = pick
        self.value: Optional[torch.Tensor] = None
        if where == "input":
            self.handle = module.register_forward_pre_hook(lambda _m, args: self._keep(args))
        elif where == "output":
            self.handle = module.register_forward_hook(lambda _m, _args, out: self._keep(out))
        else:
            raise ValueError(f"where must be input or output, got {where!r}")

    def _keep(self, seen) -> None:
        self.value = self.pick(seen)

    def take(self) -> torch.Tensor:
        value, self.value = self.value, None
        if value is None:
            raise RuntimeError("the features tap saw no forward through its module: the model differs from upstream")
        return value

    def remove(self) -> None:
        self.handle.remove()


def add_fp16_argument(parser) -> None:
    """The exporters' shared --fp16 option (see fp16.py)."""
    parser.add_argument("--fp16", action="store_true",
                        help="store weights and compute in float16, attention (q.k, softmax, attn@v) and layer norms "
                             "in float32, graph input/outputs float32 (needs the onnx package)")


def describe_graph(path: str, input_name: str, output_names: Iterable[str]) -> Optional[Dict[str, List[str]]]:
    """Checks the graph with `onnx` (when installed): valid model, exactly one input named
    `input_name`, every name in `output_names` present. Returns {tensor: [dims]} or None when
    onnx is missing. Raises RuntimeError on a mismatch (depthseg would refuse the bundle)."""
    try:
        import onnx  # noqa: PLC0415
    except ImportError:
        log("onnx not installed: skipping the graph check (depthseg checks names at load)")
        return None
    model = onnx.load(path, load_external_data=False)
    onnx.checker.check_model(path)  # the path form also works above 2 GB
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]

    def dims(value_info) -> List[str]:
        return [d.dim_param or str(d.dim_value) for d in value_info.type.tensor_type.shape.dim]

    shapes = {i.name: dims(i) for i in inputs}
    shapes.update({o.name: dims(o) for o in graph.output})
    names_in = [i.name for i in inputs]
    names_out = [o.name for o in graph.output]
    if names_in != [input_name]:
        raise RuntimeError(f"graph inputs are {names_in}, expected only {input_name!r}")
    missing = [n for n in output_names if n not in names_out]
    if missing:
        raise RuntimeError(f"graph outputs are {names_out}, missing {missing}")
    for name, d in shapes.items():
        log(f"  {name}: [{', '.join(d)}]")
    return shapes


# --- weights ----------------------------------------------------------------------------------

def load_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """A checkpoint's state dict: a bare state dict, or one under 'model' / 'state_dict'; a
    DataParallel 'module.' prefix is dropped."""
    obj = torch.load(path, map_location="cpu")
    for key in ("model", "state_dict"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise RuntimeError(f"{path} does not hold a state dict (got {type(obj).__name__})")
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


# --- self-test reference data -----------------------------------------------------------------

def write_reference(folder: str, tag: str, inputs: torch.Tensor, outputs: Dict[str, torch.Tensor]) -> None:
    """Saves an input tensor and the torch outputs for it as raw little-endian float32 files plus
    a JSON index, so the TypeScript test can run the ONNX graph on the same input through
    onnxruntime-node and compare."""
    os.makedirs(folder, exist_ok=True)
    index_path = os.path.join(folder, "index.json")
    index = []
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)

    def save(name: str, t: torch.Tensor) -> Dict[str, object]:
        file = f"{tag}.{name}.f32"
        arr = t.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4")
        arr.tofile(os.path.join(folder, file))
        return {"file": file, "dims": list(t.shape)}

    index.append({
        "tag": tag,
        "input": save("input", inputs),
        "outputs": {name: save(name, t) for name, t in outputs.items()},
    })
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1)
