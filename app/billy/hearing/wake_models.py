"""The wake-word models Billy has without downloading anything: those inside the detectors' own wheels
(microWakeWord: `pymicro-wakeword`, openWakeWord: `pyopen-wakeword`), and the file an owner's own model is."""

BUILTIN = {
    "microwakeword": ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"),
    "openwakeword": ("alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy", "okay_nabu"),
}
# An owner's own model: microWakeWord's .json (naming its .tflite beside it), openWakeWord's classifier as
# .tflite or, as the original's owners have it, .onnx (hearing/onnx_wakeword.py).
OWN_MODEL_SUFFIXES = {"microwakeword": (".json",), "openwakeword": (".tflite", ".onnx")}
EVERY_OWN_SUFFIX = tuple(dict.fromkeys(suffix for suffixes in OWN_MODEL_SUFFIXES.values() for suffix in suffixes))
OWN_MODELS_FOLDER = "wakewords"  # under the state folder: what the web page uploads (web/wake_uploads.py)
EVERY_BUILTIN = tuple(sorted({name for names in BUILTIN.values() for name in names}))
