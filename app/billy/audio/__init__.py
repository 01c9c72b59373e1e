"""Audio helpers and devices: PCM/WAV conversion, resampling, the sound card and its file-backed stand-in."""
