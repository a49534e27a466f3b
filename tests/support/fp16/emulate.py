"""float16 storage, emulated in a float32 graph, for onnxruntime's CPU provider.

onnxruntime's CPU provider has few float16 kernels: for the rest it inserts Casts and computes
in float32, and removes the float32 -> float16 -> float32 round trips between such nodes. A
float16 graph therefore never overflows on this machine (measured: an fp16 MatMul whose result
is 460800 returns 460800, not inf), while a CUDA / TensorRT engine that stores it in float16
returns inf. This rewrites a float16 graph (tools/export/fp16.py) so that every tensor the graph
stores in float16 goes through an explicit Cast to float16 and back -- casts the graph itself
states, which onnxruntime keeps (measured: Cast(75000 -> float16 -> float32) = inf) -- and
everything is computed in float32 as a GPU's float16 matmul accumulates. Values, rounding and
overflow of every float16 tensor are then those of a float16 engine.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16


def emulate_fp16_storage(model: onnx.ModelProto) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    inferred = onnx.shape_inference.infer_shapes(model).graph
    types = {v.name: v.type.tensor_type.elem_type for v in list(inferred.value_info) + list(inferred.output)}
    graph = model.graph
    inits = []
    for t in graph.initializer:
        if t.data_type == FLOAT16:
            t = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float32), t.name)  # exact
        inits.append(t)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    nodes = []
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == FLOAT16:
                attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype(np.float32), attr.t.name))
        is_cast16 = node.op_type == "Cast" and node.attribute[0].i == FLOAT16
        stored16 = [o for o in node.output if types.get(o) == FLOAT16]
        renamed = {o: f"{o}__computed" for o in stored16}
        node.output[:] = [renamed.get(o, o) for o in node.output]
        nodes.append(node)
        for o in stored16:
            if is_cast16:
                # The node already rounds to float16; widen for the float32 consumers.
                nodes.append(helper.make_node("Cast", [renamed[o]], [o], to=FLOAT, name=f"{o}__widen"))
            else:
                nodes.append(helper.make_node("Cast", [renamed[o]], [f"{o}__stored"], to=FLOAT16, name=f"{o}__store"))
                nodes.append(helper.make_node("Cast", [f"{o}__stored"], [o], to=FLOAT, name=f"{o}__widen"))
    for o in graph.output:
        if o.type.tensor_type.elem_type == FLOAT16:
            o.type.tensor_type.elem_type = FLOAT
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model
