"""The Wi-Fi radio as the setup sees it: which interface, which networks it hears, whether it has joined one.

Through the tools the image ships (`iw`, `wpa_cli`, `ip`), each run with a timeout; their output is parsed
here and nowhere else.
"""

from __future__ import annotations

import logging
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)
SYS_NET = Path("/sys/class/net")
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


@dataclass(frozen=True)
class HeardNetwork:
    ssid: str
    signal_dbm: float
    secured: bool


def wireless_interfaces(sys_net: Path = SYS_NET) -> list[str]:
    return sorted(
        path.name for path in sys_net.glob("*") if (path / "wireless").exists() or (path / "phy80211").exists()
    )


def run(*command: str, timeout: float = 20, check: bool = True) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {(done.stderr or done.stdout).strip() or done.returncode}")
    return done.stdout


def unescape_ssid(text: str) -> str:
    """`iw` writes bytes it cannot print as \\xNN; a name is shown as the UTF-8 it was."""
    raw = _ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), text.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "replace")


def parse_scan(output: str) -> list[HeardNetwork]:
    """The networks of `iw dev X scan`: one per name, strongest first, hidden ones left out."""
    found: dict[str, HeardNetwork] = {}
    current: dict = {}

    def keep() -> None:
        ssid = current.get("ssid", "")
        if ssid and (ssid not in found or found[ssid].signal_dbm < current.get("signal", -100.0)):
            found[ssid] = HeardNetwork(ssid, current.get("signal", -100.0), current.get("secured", False))

    for line in output.splitlines():
        if line.startswith("BSS "):
            keep()
            current = {}
            continue
        field = line.strip()
        if field.startswith("SSID: "):
            current["ssid"] = unescape_ssid(field[len("SSID: ") :])
        elif field.startswith("signal: "):
            current["signal"] = float(field.split()[1])
        elif field.startswith(("RSN:", "WPA:")) or (field.startswith("capability:") and "Privacy" in field):
            current["secured"] = True
    keep()
    return sorted(found.values(), key=lambda network: (-network.signal_dbm, network.ssid))


def scan(interface: str, tries: int = 5) -> list[HeardNetwork]:
    """What the radio hears now; a busy radio (it was just switched) is asked again."""
    run("ip", "link", "set", interface, "up")
    for attempt in range(tries):
        try:
            return parse_scan(run("iw", "dev", interface, "scan", timeout=30))
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            LOG.info("scan on %s: %s (try %d of %d)", interface, error, attempt + 1, tries)
            time.sleep(2)
    return []


def supplicant_status(interface: str) -> dict[str, str]:
    """`wpa_cli status` as a dict ({} when wpa_supplicant does not answer)."""
    try:
        output = run("wpa_cli", "-i", interface, "status", timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def ipv4_address(interface: str) -> str | None:
    output = run("ip", "-4", "-o", "address", "show", "dev", interface, check=False)
    match = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/", output)
    return match.group(1) if match else None
