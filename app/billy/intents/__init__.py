"""Billy's own intents: what he understands and does himself, with no model and before Home Assistant, and the
kitchen timers they set."""
