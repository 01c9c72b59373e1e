"""Wyoming, Home Assistant's voice protocol: Billy's STT and TTS served over it, and Wyoming stages for Billy."""
