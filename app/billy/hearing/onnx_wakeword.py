"""An openWakeWord model in ONNX, as the original's owners trained or downloaded it ("hey_billy.onnx").

openWakeWord's wake word models are small classifiers over its speech embeddings (96 features every 80 ms);
pyopen-wakeword runs the embeddings and the TFLite form of the classifiers. The same classifier exported to
ONNX takes the same input, `[1, windows, 96]` (16 windows, 1.28 s, for the usual models), and gives one
probability; onnxruntime, already here for the end-of-turn and voice-activity models, runs it. This class
is fed the embeddings exactly as pyopen-wakeword's own classifier is (`process_streaming`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

FEATURES = 96  # openWakeWord's embedding size
MAX_WINDOWS = 10 * 12  # ten seconds of embeddings kept


class OnnxWakeWordError(ValueError):
    """The file is not an openWakeWord classifier this can run; the message says why."""


class OnnxWakeWord:
    def __init__(self, path: Path) -> None:
        import onnxruntime

        try:
            self._session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own kinds for a file that is not a model
            raise OnnxWakeWordError(f"{path.name}: not an ONNX model onnxruntime can load ({error})") from None
        inputs = self._session.get_inputs()
        shape = inputs[0].shape if len(inputs) == 1 else []
        if len(shape) != 3 or shape[2] != FEATURES or not isinstance(shape[1], int):
            raise OnnxWakeWordError(
                f"{path.name}: takes {[i.shape for i in inputs]}, not openWakeWord's [1, windows, {FEATURES}]"
            )
        self._input = inputs[0].name
        self.input_windows = shape[1]
        self.reset()

    def reset(self) -> None:
        self._embeddings = np.zeros((MAX_WINDOWS, FEATURES), np.float32)
        self._new = 0

    def process_streaming(self, embeddings: np.ndarray) -> Iterable[float]:
        """A probability for every full window the new embeddings complete (`embeddings`: [1, 1, n, 96])."""
        count = embeddings.shape[2]
        self._embeddings = np.concatenate([self._embeddings[count:], embeddings[0, 0].astype(np.float32)])
        self._new = min(len(self._embeddings), self._new + count)
        while self._new >= self.input_windows:
            start = len(self._embeddings) - self._new
            window = self._embeddings[start : start + self.input_windows][np.newaxis]
            self._new -= 1
            (output,) = self._session.run(None, {self._input: window})
            yield float(np.asarray(output).reshape(-1)[0])
