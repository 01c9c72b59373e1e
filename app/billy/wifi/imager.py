"""Raspberry Pi Imager's Wi-Fi, taken over from its `network-config` on the boot partition.

Imager writes the Wi-Fi it was given as netplan YAML for cloud-init (`wifis:`), but cloud-init renders Wi-Fi
only through netplan, which this image does not have (systemd-networkd): it warns and drops it. So Billy takes
it himself, through the same checks and file as his setup page. Once per customisation: the digest of what was
imported is kept beside the file, so a network chosen later on the setup page is not overwritten at the next
boot by the card's old one.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import yaml

from billy.wifi.networks import NetworkRefused, check_country, check_network, supplicant_config, write_private

LOG = logging.getLogger(__name__)
NETWORK_CONFIG = Path("/boot/firmware/network-config")


def imager_networks(text: str) -> dict[str, tuple[str, str, str]]:
    """{interface: (ssid, password, country)} from a netplan `network-config`: the first network of each."""
    document = yaml.safe_load(text) or {}
    wifis = (document.get("network", document) or {}).get("wifis") or {}
    found = {}
    for interface, config in wifis.items():
        if not isinstance(config, dict) or not isinstance(config.get("access-points"), dict):
            continue  # `renderer: ...` and the like sit beside the interfaces
        for ssid, point in config["access-points"].items():
            password = (point or {}).get("password", "") if isinstance(point, dict) else ""
            found[str(interface)] = (str(ssid), str(password or ""), str(config.get("regulatory-domain") or ""))
            break
    return found


def take_over(interface: str, network_config: Path, supplicant_dir: Path) -> bool:
    """Write Imager's network for `interface` unless it was taken before; True when a file was written."""
    try:
        text = network_config.read_text()
    except OSError:
        return False
    digest = hashlib.sha256(text.encode()).hexdigest()
    marker = supplicant_dir / f".imager-{interface}.sha256"
    if marker.exists() and marker.read_text().strip() == digest:
        return False
    try:
        chosen = imager_networks(text).get(interface)
        if chosen is None:
            return False
        ssid, password, country = chosen
        network, country = check_network(ssid, password), check_country(country)
    except (yaml.YAMLError, AttributeError, NetworkRefused) as problem:
        LOG.warning("Imager's Wi-Fi in %s cannot be used: %s", network_config, problem)
        return False
    write_private(supplicant_dir / f"wpa_supplicant-{interface}.conf", supplicant_config(network, country))
    write_private(marker, digest + "\n")
    LOG.info("took Imager's Wi-Fi %r for %s from %s", network.ssid, interface, network_config)
    return True
