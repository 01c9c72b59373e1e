"""The cloud's Realtime voice: speech in, speech out over one WebSocket (OpenAI's and xAI's protocol)."""
