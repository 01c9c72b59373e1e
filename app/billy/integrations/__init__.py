"""Other products Billy talks to: MQTT and Home Assistant's discovery, Home Assistant's REST API, Wyoming."""
