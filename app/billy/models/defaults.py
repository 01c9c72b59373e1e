"""The model names Billy uses unless told otherwise: one place for the settings, the stack, demo and benchmark."""

STT_MODEL = "tiny.en"  # faster-whisper, from the catalogue
MULTILINGUAL_STT_MODEL = "base"  # the smallest that hears every language, from the catalogue
VOICE = "en_US-joe-medium"  # piper, from the catalogue
OPENAI_STT_MODEL = "whisper-1"  # what OpenAI's API (and compatible servers) call their models
OPENAI_TTS_MODEL = "tts-1"
END_OF_TURN_MODEL = "smart-turn-v3"  # the end-of-turn judge, from the catalogue
