"""Speech to text: faster-whisper behind an OpenAI-shaped HTTP API, and its client."""
