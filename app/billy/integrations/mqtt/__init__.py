"""Billy on MQTT: state and availability out, speech and commands in, Home Assistant discovery.

`link.MqttLink` owns the connection and hands incoming operations to an `MqttHandlers` (the runtime's Billy);
`topics` names every topic under the prefix, `discovery` builds Home Assistant's config payloads and
`commands` parses and validates what arrives. Nothing here knows about audio, motors or the language model.
"""
