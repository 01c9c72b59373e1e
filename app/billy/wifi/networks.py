"""A home network as the captive page receives it: checked, then written for wpa_supplicant.

Everything a browser sent is checked before it is written anywhere: the name is 1-32 bytes with no control
character, the password empty (an open network), 8-63 printable ASCII characters or a 64-digit hex key, the
country two letters. The file never holds the password itself: the name is written in hex (any byte is safe)
and the key is the 256-bit PSK wpa_supplicant would derive from the passphrase (IEEE 802.11i, PBKDF2-SHA1).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from billy.settings.kinds import ConfigError, Country, control_character

_HEX_KEY = re.compile(r"[0-9A-Fa-f]{64}")


class NetworkRefused(ValueError):
    """What the owner typed cannot be a Wi-Fi network; the message says what to change."""


@dataclass(frozen=True)
class HomeNetwork:
    ssid: str
    passphrase: str  # empty: an open network

    def psk(self) -> str:
        """The 64 hex digits wpa_supplicant's `psk=` takes: the passphrase never reaches the card."""
        if _HEX_KEY.fullmatch(self.passphrase):
            return self.passphrase.lower()
        key = hashlib.pbkdf2_hmac("sha1", self.passphrase.encode(), self.ssid.encode(), 4096, 32)
        return key.hex()


def check_network(ssid: str, passphrase: str) -> HomeNetwork:
    if not ssid:
        raise NetworkRefused("choose a network or type its name")
    if control_character(ssid) is not None:
        raise NetworkRefused("the network name contains a control character")
    if len(ssid.encode()) > 32:
        raise NetworkRefused("a network name is at most 32 bytes")
    if passphrase and not _HEX_KEY.fullmatch(passphrase):
        if not 8 <= len(passphrase) <= 63:
            raise NetworkRefused("a Wi-Fi password is 8 to 63 characters (or empty for an open network)")
        if not all(" " <= char <= "~" for char in passphrase):
            raise NetworkRefused("a Wi-Fi password is plain ASCII letters, digits, spaces and signs")
    return HomeNetwork(ssid, passphrase)


def check_country(country: str) -> str:
    """Two letters (ISO 3166), or empty for the radio's default: WIFI_COUNTRY's own check, in the page's words."""
    try:
        return Country().read("country", country)
    except ConfigError:
        raise NetworkRefused("the country is a two-letter code such as GB, DE, NL or US") from None


def supplicant_config(network: HomeNetwork, country: str) -> str:
    lines = [
        "# Written by Billy's Wi-Fi setup (billy wifi setup); the page's password is kept only as its key.",
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev",
        "update_config=0",
    ]
    if country:
        lines.append(f"country={country}")
    lines += ["network={", f"\tssid={network.ssid.encode().hex()}", "\tscan_ssid=1"]
    lines += [f"\tpsk={network.psk()}", "\tkey_mgmt=WPA-PSK"] if network.passphrase else ["\tkey_mgmt=NONE"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write `text` as root's own file (0600), whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(part, path)
