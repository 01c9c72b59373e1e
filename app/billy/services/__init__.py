"""The speech and language services (STT, TTS, the LLM engine) and the clients Billy reaches them with."""
