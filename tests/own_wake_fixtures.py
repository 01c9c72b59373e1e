"""Wake word models as an owner uploads them: a microWakeWord model under his own name, and small ONNX
classifiers with openWakeWord's interface."""

from __future__ import annotations

import json
from pathlib import Path

import pymicro_wakeword

MICRO = Path(pymicro_wakeword.__file__).parent / "models"


def classifier(probability: float, windows: int = 16, features: int = 96) -> bytes:
    """An ONNX model with openWakeWord's classifier interface ([1, windows, 96] in, [1, 1] out) that always says
    `probability`: the input's mean times zero, plus the probability."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["x"], ["mean"], keepdims=0),
            helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["nothing", "p"], ["sum"]),
            helper.make_node("Reshape", ["sum", "shape"], ["probability"]),
        ],
        "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, windows, features])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [1, 1])],
        [
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("p", TensorProto.FLOAT, [], [probability]),
            helper.make_tensor("shape", TensorProto.INT64, [2], [1, 1]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def micro_files(name: str) -> dict[str, bytes]:
    """The bundled okay_nabu microWakeWord model under the owner's own name, as one would upload it."""
    config = json.loads((MICRO / "okay_nabu.json").read_text())
    config["model"] = f"{name}.tflite"
    return {f"{name}.json": json.dumps(config).encode(), f"{name}.tflite": (MICRO / "okay_nabu.tflite").read_bytes()}
