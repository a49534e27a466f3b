"""float32 -> float16 conversion of an exported ONNX graph, attention and layer norms kept in float32.

Why an ONNX pass and not `model.half()` before export: torch.onnx.export traces a forward, and
CPU torch (Debian's 1.13 included) has no float16 matmul, softmax, layer norm or conv kernels
("addmm_impl_cpu_" not implemented for 'Half'), so a half model cannot be traced without a GPU.
onnxconverter-common's converter is not a dependency here; this is the small part of it we need.

What is kept in float32 (`keep_fp32_nodes`):
  * attention: each Softmax, the MatMul that produces its input (q.k^T) and the elementwise nodes
    between them (scale, relative-position bias, mask), and the MatMul that consumes its output
    (attn @ v). q.k^T is a sum of head_dim products: with activations of a few hundred it passes
    float16's largest finite value, 65504, becomes inf, and softmax turns the row into NaN --
    the NaN depth users report for ViT depth models in float16 on TensorRT;
  * LayerNormalization (its mean and variance see the same large residual stream; TensorRT
    warns about layer norm in float16 for that reason).
Everything else is float16: weights are stored as float16 (about half the file) and every other
node computes in float16 where the runtime has float16 kernels.

The graph's inputs and outputs stay float32 (a Cast at each edge), so a bundle's interface and
model.yaml do not change: depthseg feeds float32 and reads float32, and non-finite values (the
symptom of an overflow) reach its depth check as NaN / Inf.
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Set

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16

# Elementwise nodes that may sit between q.k^T and the softmax (scale, bias, mask).
_ATTENTION_ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Where", "Cast", "Identity"}
# Nodes that may sit between the softmax and attn @ v.
_PASS_THROUGH = {"Dropout", "Identity", "Cast"}
# (op, input index): inputs whose type the op fixes independently of its data type (Resize's
# roi and scales); they are left as they are.
_TYPE_FIXED_INPUTS = {("Resize", 1), ("Resize", 2), ("Upsample", 1)}


def _producers(graph: onnx.GraphProto) -> Dict[str, onnx.NodeProto]:
    return {o: n for n in graph.node for o in n.output}


def _consumers(graph: onnx.GraphProto) -> Dict[str, List[onnx.NodeProto]]:
    out: Dict[str, List[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def keep_fp32_nodes(graph: onnx.GraphProto, attention: bool = True, layer_norm: bool = True) -> Set[str]:
    """Names of the nodes to keep in float32 (see the module docstring). Nodes must be named
    (torch.onnx.export names every node)."""
    keep: Set[str] = set()
    producers, consumers = _producers(graph), _consumers(graph)
    for node in graph.node:
        if layer_norm and node.op_type == "LayerNormalization":
            keep.add(node.name)
        if not attention or node.op_type != "Softmax":
            continue
        keep.add(node.name)
        # Back from the softmax input to the q.k^T MatMul, through the elementwise nodes.
        stack = [node.input[0]]
        seen: Set[str] = set()
        while stack:
            name = stack.pop()
            producer = producers.get(name)
            if producer is None or producer.name in seen:
                continue
            seen.add(producer.name)
            if producer.op_type == "MatMul":
                keep.add(producer.name)
            elif producer.op_type in _ATTENTION_ELEMENTWISE:
                keep.add(producer.name)
                stack.extend(producer.input)
        # Forward to attn @ v.
        stack = [node.output[0]]
        while stack:
            for consumer in consumers.get(stack.pop(), []):
                if consumer.op_type == "MatMul":
                    keep.add(consumer.name)
                elif consumer.op_type in _PASS_THROUGH:
                    keep.add(consumer.name)
                    stack.extend(consumer.output)
    return keep


def _has_float16_form(node: onnx.NodeProto, opset: int) -> bool:
    """False when the op's schema allows float for some input but not float16 (e.g. Range)."""
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
    except Exception:  # noqa: BLE001 - unknown op: leave it to the runtime
        return True
    allowed = {c.type_param_str: set(c.allowed_type_strs) for c in schema.type_constraints}
    for formal in schema.inputs:
        type_str = getattr(formal, "type_str", None) or formal.typeStr   # onnx >= 1.13 / 1.12
        if type_str not in allowed:
            continue   # a fixed type (Resize's scales: tensor(float)), not a type parameter
        types = allowed[type_str]
        if "tensor(float)" in types and "tensor(float16)" not in types:
            return False
    return True


def _elem_types(model: onnx.ModelProto) -> Dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    types: Dict[str, int] = {}
    for v in list(g.value_info) + list(g.input) + list(g.output):
        if v.type.HasField("tensor_type"):
            types[v.name] = v.type.tensor_type.elem_type
    for t in g.initializer:
        types[t.name] = t.data_type
    return types


def _to_fp16_tensor(t: onnx.TensorProto, name: Optional[str] = None) -> onnx.TensorProto:
    arr = numpy_helper.to_array(t).astype(np.float16)
    return numpy_helper.from_array(arr, name if name is not None else t.name)


def convert_float_to_float16(model: onnx.ModelProto, keep_fp32: Iterable[str] = (),
                             fp32_outputs: bool = True) -> onnx.ModelProto:
    """A copy of `model` computing in float16, except the nodes named in `keep_fp32`, with a Cast
    wherever a tensor crosses between the two. Graph inputs stay float32; graph outputs too unless
    `fp32_outputs` is False. Raises ValueError for a float tensor whose type shape inference
    cannot tell (the pass would not know where to cast)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    types = _elem_types(model)
    graph = model.graph
    keep = set(keep_fp32)
    consumers = _consumers(graph)
    is_float = lambda name: types.get(name) == FLOAT  # noqa: E731
    untyped = [o for n in graph.node for o in n.output if o and o not in types]
    if untyped:
        raise ValueError(f"shape inference cannot tell the type of {len(untyped)} tensors (e.g. {untyped[0]}): "
                         "the float16 pass would not know where to cast")

    # Where each float tensor lives after the pass: 16 or 32.
    home: Dict[str, int] = {i.name: 32 for i in graph.input if is_float(i.name)}
    precision = {n.name: (32 if n.name in keep else 16) for n in graph.node}

    # Size arithmetic stays float32, back to where it stops being float: what computes a
    # type-fixed input (Resize scales: a Constant, or Shape -> Cast -> Div chains in dynamic
    # graphs), what is cast to an integer (sizes, indices: float16 would round them), and the
    # inputs of ops with no float16 form (Range), which stay float32 themselves.
    producers = _producers(graph)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    stack = [n.input[i] for n in graph.node for i in range(len(n.input))
             if (n.op_type, i) in _TYPE_FIXED_INPUTS and n.input[i]]
    for n in graph.node:
        if n.op_type == "Cast" and n.attribute[0].i not in (FLOAT, FLOAT16, TensorProto.DOUBLE) and is_float(n.input[0]):
            precision[n.name] = 32
            stack.append(n.input[0])
        elif not _has_float16_form(n, opset):
            precision[n.name] = 32
            stack.extend(i for i in n.input if i and is_float(i))
    while stack:
        producer = producers.get(stack.pop())
        if producer is None or precision[producer.name] == 32:
            continue
        precision[producer.name] = 32
        stack.extend(i for i in producer.input if i and is_float(i))

    def wants(node: onnx.NodeProto, index: int) -> Optional[int]:
        if (node.op_type, index) in _TYPE_FIXED_INPUTS:
            return None
        return precision[node.name]

    initializers = []
    for t in graph.initializer:
        if t.data_type == FLOAT:
            uses = [wants(c, list(c.input).index(t.name)) for c in consumers.get(t.name, [])]
            if uses and all(u == 16 for u in uses):
                initializers.append(_to_fp16_tensor(t))
                home[t.name] = 16
                continue
            home[t.name] = 32
        initializers.append(t)
    del graph.initializer[:]
    graph.initializer.extend(initializers)

    new_nodes: List[onnx.NodeProto] = []
    casts: Dict[tuple, str] = {}

    def cast(name: str, to: int) -> str:
        key = (name, to)
        if key not in casts:
            out = f"{name}__as_fp{to}"
            new_nodes.append(helper.make_node("Cast", [name], [out], to=FLOAT16 if to == 16 else FLOAT,
                                              name=f"{name}__cast_fp{to}"))
            casts[key] = out
        return casts[key]

    for node in graph.node:
        p = precision[node.name]
        for index, name in enumerate(node.input):
            if not name or not is_float(name):
                continue
            if name not in home:
                raise ValueError(f"{node.name}: input {name} has no known producer precision")
            target = wants(node, index)
            if target is not None and home[name] != target:
                node.input[index] = cast(name, target)
        if p == 16:
            if node.op_type == "Cast" and node.attribute[0].i == FLOAT:
                node.attribute[0].i = FLOAT16
            for attr in node.attribute:
                if node.op_type in ("Constant", "ConstantOfShape") and attr.type == onnx.AttributeProto.TENSOR \
                        and attr.t.data_type == FLOAT:
                    attr.t.CopyFrom(_to_fp16_tensor(attr.t, attr.t.name))
        for name in node.output:
            if is_float(name):
                home[name] = p
        new_nodes.append(node)

    outputs = {o.name for o in graph.output}
    for o in graph.output:
        if not is_float(o.name) or home.get(o.name) != 16:
            continue
        if fp32_outputs:
            # The producer writes <name>__fp16; a Cast gives the graph output its float32 name back.
            inner = f"{o.name}__fp16"
            for n in new_nodes:
                n.output[:] = [inner if x == o.name else x for x in n.output]
                n.input[:] = [inner if x == o.name else x for x in n.input]
            new_nodes.append(helper.make_node("Cast", [inner], [o.name], to=FLOAT, name=f"{o.name}__cast_out"))
        else:
            o.type.tensor_type.elem_type = FLOAT16
    assert outputs == {o.name for o in graph.output}
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.value_info[:]
    return model


def convert_file(path: str, out_path: Optional[str] = None, attention_fp32: bool = True,
                 log: Callable[[str], None] = lambda m: None) -> Dict[str, int]:
    """Converts the graph at `path` in place (or to `out_path`); returns counts for the log."""
    model = onnx.load(path)
    keep = keep_fp32_nodes(model.graph) if attention_fp32 else set()
    converted = convert_float_to_float16(model, keep)
    onnx.checker.check_model(converted)
    onnx.save(converted, out_path or path)
    ops = {}
    for n in model.graph.node:
        if n.name in keep:
            ops[n.op_type] = ops.get(n.op_type, 0) + 1
    counts = {"nodes": len(model.graph.node), "kept_fp32": len(keep), **{f"kept_{k}": v for k, v in ops.items()}}
    log("float16: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts
