"""Text to speech: piper behind an OpenAI-shaped HTTP API that streams sentence by sentence, and its client."""
