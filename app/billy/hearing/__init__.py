"""Billy's ears: the listener that cuts speech into turns, the end-of-turn judge, and the wake word."""
