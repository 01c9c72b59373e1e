"""The states Billy is in, as MQTT (`billy/state`), Home Assistant's enum sensor and the web page show them."""

STATES = ("starting", "idle", "listening", "thinking", "speaking", "playing_song", "error")
# States in which the button (or the wake word) stops him instead of starting a conversation.
BUSY = ("speaking", "playing_song", "thinking")
