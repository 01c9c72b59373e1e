"""Billy's personality: the `persona.ini` file (the original format), its traits, and the system prompt."""
