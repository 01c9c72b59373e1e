"""One turn of conversation: the overlapped pipeline, its drafts and stages with fallbacks, the steps before the
LLM, sentences, tools and the session's history."""
