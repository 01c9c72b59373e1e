"""The setup access point: hostapd on the radio, and a runtime networkd file that gives it an address and a
DHCP server pointing phones at Billy (router, name server and the captive-portal option of RFC 8910).

The runtime file sorts before the image's own wireless file and lives in /run, so a power cut while the access
point is open leaves nothing behind: the next boot is an ordinary one.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from billy.wifi.radio import run

LOG = logging.getLogger(__name__)
SSID = "Billy-Setup"
ADDRESS = "192.168.4.1"
NETWORKD_RUNTIME = Path("/run/systemd/network")


@dataclass(frozen=True)
class AccessPoint:
    interface: str
    country: str = ""
    ssid: str = SSID
    address: str = ADDRESS
    channel: int = 6

    def hostapd_config(self) -> str:
        lines = [
            f"interface={self.interface}",
            "driver=nl80211",
            f"ssid={self.ssid}",
            "hw_mode=g",
            f"channel={self.channel}",
            "auth_algs=1",
            "wpa=0",  # open, like the original's: the page is all it serves, and only while Billy has no network
            "ignore_broadcast_ssid=0",
        ]
        if self.country:
            lines += [f"country_code={self.country}", "ieee80211d=1"]
        return "\n".join(lines) + "\n"

    def network_file(self) -> str:
        return "\n".join(
            [
                "# Billy's setup access point (billy wifi setup); removed when it closes, gone at the next boot.",
                "[Match]",
                f"Name={self.interface}",
                "",
                "[Link]",
                "RequiredForOnline=no",
                "",
                "[Network]",
                f"Address={self.address}/24",
                "ConfigureWithoutCarrier=yes",
                "LinkLocalAddressing=no",
                "IPv6AcceptRA=no",
                "DHCPServer=yes",
                "",
                "[DHCPServer]",
                "PoolOffset=10",
                "PoolSize=100",
                "EmitRouter=yes",
                "EmitDNS=yes",
                f"DNS={self.address}",
                f"SendOption=114:string:http://{self.address}/",
                "",
            ]
        )

    @property
    def network_path(self) -> Path:
        return NETWORKD_RUNTIME / f"05-billy-setup-{self.interface}.network"


class RunningAccessPoint:
    """hostapd started, the address and DHCP server on; `close()` undoes both."""

    def __init__(self, access_point: AccessPoint, run_dir: Path) -> None:
        self.access_point = access_point
        run_dir.mkdir(parents=True, exist_ok=True)
        self.control = run_dir / "hostapd"
        self._said: list[str] = []
        config = run_dir / "hostapd.conf"
        config.write_text(access_point.hostapd_config() + f"ctrl_interface={self.control}\n")
        access_point.network_path.parent.mkdir(parents=True, exist_ok=True)
        access_point.network_path.write_text(access_point.network_file())
        access_point.network_path.chmod(0o644)  # networkd reads it as its own user; the unit's umask is 077
        reconfigure(access_point.interface)
        self.hostapd = subprocess.Popen(
            ["hostapd", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._wait_enabled()
        LOG.info("access point %r open on %s at %s", access_point.ssid, access_point.interface, access_point.address)

    def _wait_enabled(self, seconds: float = 60) -> None:
        """Until hostapd says (on its control socket) the access point is up; its last words if it died first.

        Its output is read on by a thread, or hostapd would block once the pipe is full; stdio buffers it, so
        the control socket, not the output, tells when it is up.
        """
        threading.Thread(target=self._log_hostapd, name="hostapd-log", daemon=True).start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.hostapd.poll() is not None:
                self._undo_network()
                raise RuntimeError(f"hostapd did not open the access point: {' | '.join(self._said[-5:])}")
            state = run(
                "hostapd_cli",
                "-p",
                str(self.control),
                "-i",
                self.access_point.interface,
                "status",
                check=False,
                timeout=10,
            )
            if "state=ENABLED" in state:
                return
            time.sleep(0.5)
        self.close()
        raise RuntimeError(f"hostapd did not open the access point within {seconds:.0f} s")

    def _log_hostapd(self) -> None:
        for line in self.hostapd.stdout:
            self._said.append(line.rstrip())
            del self._said[:-20]
            LOG.info("hostapd: %s", line.rstrip())

    def alive(self) -> bool:
        return self.hostapd.poll() is None

    def close(self) -> None:
        if self.hostapd.poll() is None:
            self.hostapd.terminate()
            try:
                self.hostapd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.hostapd.kill()
                self.hostapd.wait()
        self._undo_network()
        LOG.info("access point %r closed", self.access_point.ssid)

    def _undo_network(self) -> None:
        self.access_point.network_path.unlink(missing_ok=True)
        reconfigure(self.access_point.interface)


def reconfigure(interface: str) -> None:
    """networkd reads its files again and applies them to the interface."""
    run("networkctl", "reload")
    run("networkctl", "reconfigure", interface, check=False)
