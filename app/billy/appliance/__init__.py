"""The appliance: the running Billy and his work loop, how he is wired from his settings, the operations that
MQTT and the web page ask of him, the control socket, and the doctor."""
