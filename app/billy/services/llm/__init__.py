"""Thinking: a streaming client of any OpenAI-compatible chat endpoint (Ollama, llama.cpp, OpenAI)."""
