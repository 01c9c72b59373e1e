"""The whole setup: decide at boot, open the access point, take the owner's network, join it or try again.

Billy's web page is stopped while the access point is open (the captive page needs port 80 on the access
point's address, the web page holds it on every address) and started again after. What happened is written
to `status.json` in the run folder: phase (waiting, online, open, joining, failed, joined, retrying), the network, the
problem of the last try.
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from billy.wifi import radio
from billy.wifi.access_point import AccessPoint, RunningAccessPoint
from billy.wifi.captive_dns import CaptiveDns
from billy.wifi.captive_page import CaptivePage
from billy.wifi.imager import NETWORK_CONFIG, take_over
from billy.wifi.networks import HomeNetwork, supplicant_config, write_private
from billy.wifi.online import button_held, wait_for_network

LOG = logging.getLogger(__name__)
SUPPLICANT_DIR = Path("/etc/wpa_supplicant")
RUN_DIR = Path("/run/billy-wifi-setup")
WEB_UNIT = "billy-web.service"
# wpa_supplicant's states on the way to a joined network: how far a failed try got says why it failed.
REACHED_NETWORK = ("ASSOCIATING", "ASSOCIATED", "4WAY_HANDSHAKE", "GROUP_HANDSHAKE", "COMPLETED")
SAW_KEY_EXCHANGE = ("4WAY_HANDSHAKE", "GROUP_HANDSHAKE")
RETRY_JOIN_SECONDS = 90  # a known network's join and DHCP, when Billy tries it again


@dataclass
class WifiSetup:
    interface: str
    country: str = ""
    join_seconds: float = 60
    run_dir: Path = RUN_DIR
    supplicant_dir: Path = SUPPLICANT_DIR
    port: int = 80
    # With a network already known (its file exists) and nobody choosing one: how long Billy-Setup stays open
    # before Billy tries the known one again. A router that boots slower than the fish after a power cut must
    # not leave him in setup for good. 0: never.
    retry_known_seconds: float = 600
    stop: threading.Event = field(default_factory=threading.Event)
    # Billy's voice (his runtime's `say`): a fish has no screen, so he tells the owner what to do and how it went.
    tell: Callable[[str], None] = lambda text: None

    @property
    def supplicant_file(self) -> Path:
        return self.supplicant_dir / f"wpa_supplicant-{self.interface}.conf"

    @property
    def supplicant_unit(self) -> str:
        return f"wpa_supplicant@{self.interface}.service"

    def at_boot(
        self, wait_seconds: float, button_pin: int | None, gpio: str, network_config: Path = NETWORK_CONFIG
    ) -> int:
        """The boot-time decision: the button held, or no network within `wait_seconds`, opens the setup.

        Imager's Wi-Fi (which cloud-init drops on this image) is taken over first, so it is what is waited for.
        """
        if take_over(self.interface, network_config, self.supplicant_dir):
            systemctl("restart", self.supplicant_unit)
        if button_held(button_pin, gpio):
            LOG.info("the button is held: opening the setup network")
            return self.run()
        if wait_seconds == 0:  # the owner chose: only the button opens it
            self.status("online", through="not checked (BILLY_WIFI_SETUP_SECONDS=0)")
            return 0
        self.status("waiting", problem=f"waiting {wait_seconds:.0f} s for a network")
        through = wait_for_network(wait_seconds, self.stop)
        if through is not None:
            LOG.info("on a network through %s: no setup needed", through)
            self.status("online", through=through)
            return 0
        LOG.warning("no network %.0f s after boot: opening the setup network %r", wait_seconds, AccessPoint.ssid)
        return self.run()

    def run(self) -> int:
        """Open the access point until a network is joined (or stop is set)."""
        problem, told = "", False
        web_was_active = unit_active(WEB_UNIT)
        systemctl("stop", self.supplicant_unit)
        if web_was_active:
            systemctl("stop", WEB_UNIT)
        try:
            while not self.stop.is_set():
                heard = radio.scan(self.interface)
                if problem:
                    self.tell(f"That did not work: {problem}. Billy Setup is open again.")
                elif not told:  # once: a long outage must not have him repeat it every few minutes
                    self.tell("I can't find a network. On your phone, join the Wi-Fi called Billy Setup, "
                              "and choose yours on the page that opens.")  # fmt: skip
                    told = True
                known = self.supplicant_file.exists() and self.retry_known_seconds > 0
                choice = self.serve(heard, problem, self.retry_known_seconds if known else None)
                if choice is None:
                    if self.stop.is_set() or self.known_network_back():
                        return 0
                    continue
                network, country = choice
                problem = self.join(network, country or self.country)
                if not problem:
                    return 0
                LOG.warning("%s; opening the setup network again", problem)
            return 0
        finally:
            if not unit_active(self.supplicant_unit):  # the home network as it was, whatever happened
                systemctl("start", self.supplicant_unit)
            if web_was_active:
                systemctl("start", WEB_UNIT)

    def known_network_back(self) -> bool:
        """Nobody chose a network: is the known one there again? (False: Billy-Setup opens again.)"""
        LOG.info("nobody chose a network in %.0f s: trying the known one again", self.retry_known_seconds)
        self.status("retrying")
        systemctl("start", self.supplicant_unit)
        through = wait_for_network(RETRY_JOIN_SECONDS, self.stop)
        if through is None:
            systemctl("stop", self.supplicant_unit)
            return False
        LOG.info("the known network is back, through %s", through)
        self.status("online", through=through)
        return True

    def serve(
        self, heard: list[radio.HeardNetwork], problem: str, give_up_after: float | None = None
    ) -> tuple[HomeNetwork, str] | None:
        """The access point open until the owner chose a network (None: stopped, or `give_up_after` passed)."""
        chosen: queue.Queue = queue.Queue()
        access_point = AccessPoint(self.interface, self.country)
        running = RunningAccessPoint(access_point, self.run_dir)
        dns = page = None
        try:
            dns = CaptiveDns(access_point.address)
            page = CaptivePage(
                access_point.address,
                self.port,
                heard,
                self.country,
                problem,
                lambda network, country: chosen.put((network, country)),
            )
            self.status("open", problem=problem, heard=[network.ssid for network in heard])
            until = time.monotonic() + give_up_after if give_up_after else float("inf")
            while not self.stop.is_set() and time.monotonic() < until:
                try:
                    return chosen.get(timeout=1)
                except queue.Empty:
                    if not running.alive():
                        raise RuntimeError("hostapd stopped while the setup network was open") from None
            return None
        finally:
            time.sleep(1)  # the "joining" page on its way to the phone before the network it travels on closes
            for part in (page, dns, running):
                if part is not None:
                    part.close()

    def join(self, network: HomeNetwork, country: str) -> str:
        """Join `network`: '' when joined with an address, else why not (the previous file is put back)."""
        self.status("joining", ssid=network.ssid)
        before = self.supplicant_file.read_text() if self.supplicant_file.exists() else None
        write_private(self.supplicant_file, supplicant_config(network, country))
        systemctl("restart", self.supplicant_unit)
        deadline = time.monotonic() + self.join_seconds
        furthest, reached = "", 0
        while time.monotonic() < deadline and not self.stop.is_set():
            state = radio.supplicant_status(self.interface).get("wpa_state", "")
            if state in REACHED_NETWORK and REACHED_NETWORK.index(state) >= reached:
                reached, furthest = REACHED_NETWORK.index(state), state
            if state == "COMPLETED" and radio.ipv4_address(self.interface):
                LOG.info("joined %r as %s", network.ssid, radio.ipv4_address(self.interface))
                self.status("joined", ssid=network.ssid, address=radio.ipv4_address(self.interface))
                self.tell(f"I'm on {network.ssid} now.")
                return ""
            time.sleep(1)
        systemctl("stop", self.supplicant_unit)
        if before is None:
            self.supplicant_file.unlink(missing_ok=True)
        else:
            write_private(self.supplicant_file, before)
        if furthest == "COMPLETED":
            problem = f"Billy joined {network.ssid} but got no address from it (is its DHCP server on?)"
        elif furthest in SAW_KEY_EXCHANGE:
            problem = f"{network.ssid} did not accept the password"
        elif furthest:
            problem = f"{network.ssid} answered but did not let Billy in"
        else:
            problem = f"Billy could not find {network.ssid} (out of reach, or the name is not exact)"
        self.status("failed", ssid=network.ssid, problem=problem)
        return problem

    def status(self, phase: str, **facts) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        part = self.run_dir / "status.json.part"
        part.write_text(json.dumps({"phase": phase, "at": time.time(), **facts}))
        part.replace(self.run_dir / "status.json")


def systemctl(verb: str, unit: str) -> None:
    done = subprocess.run(["systemctl", verb, unit], capture_output=True, text=True, timeout=90)
    if done.returncode != 0:
        LOG.warning("systemctl %s %s: %s", verb, unit, done.stderr.strip())


def unit_active(unit: str) -> bool:
    if shutil.which("systemctl") is None:
        return False
    return subprocess.run(["systemctl", "is-active", "--quiet", unit], timeout=30).returncode == 0
