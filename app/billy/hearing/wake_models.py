"""The wake-word models Billy has without downloading anything: those inside the detectors' own wheels
(microWakeWord: `pymicro-wakeword`, openWakeWord: `pyopen-wakeword`), and the file an owner's own model is."""

BUILTIN = {
    "microwakeword": ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"),
    "openwakeword": ("alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy", "okay_nabu"),
}
OWN_MODEL_SUFFIX = {"microwakeword": ".json", "openwakeword": ".tflite"}
EVERY_BUILTIN = tuple(sorted({name for names in BUILTIN.values() for name in names}))
