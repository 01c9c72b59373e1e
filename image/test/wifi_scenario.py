"""Billy's setup network in the booted image, with the kernel's simulated radios (mac80211_hwsim); run as root on
the fish by boot_test.py (`python3 - TIMEOUT < wifi_scenario.py`), which reads the JSON it prints last.

Three radios: wlan0 is Billy's, wlan1 the owner's phone (in its own network namespace, as a phone is another
machine), wlan2 the home network (hostapd, WPA2, and networkd's DHCP server). Billy's default route is taken
away, so after BILLY_WIFI_SETUP_SECONDS Billy opens Billy-Setup by himself; the phone joins it, gets an
address, is answered by the captive name server and page, sends a wrong password (Billy tries, fails, opens
Billy-Setup again and the page says why), then the right one: Billy joins the home network and closes
Billy-Setup. Every wait ends early when a process it waits on died.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

TIMEOUT = float(sys.argv[1]) if len(sys.argv) > 1 else 900
HOME_SSID, HOME_PASSWORD, WRONG_PASSWORD = "HomeNet", "fish fingers 42", "not the password"
STATUS = Path("/run/billy-wifi-setup/status.json")
WORK = Path("/run/billy-wifi-test")
PAGE = "http://192.168.4.1"
figures: dict = {}
started = time.monotonic()


def sh(command: str, check: bool = True) -> str:
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise RuntimeError(f"{command}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def phone(command: str, check: bool = True) -> str:
    return sh(f"ip netns exec phone {command}", check)


def setup_unit_problem() -> str:
    state = sh("systemctl is-active billy-wifi-setup.service", check=False).strip()
    if state == "failed":
        return "billy-wifi-setup.service failed:\n" + sh("journalctl -b -u billy-wifi-setup -n 30 -o cat", False)
    return ""


def wait(what: str, check, alive=setup_unit_problem):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        problem = alive()
        if problem:
            raise RuntimeError(f"waiting for {what}: {problem}")
        time.sleep(2)
    raise RuntimeError(f"{what}: not within {TIMEOUT:.0f} s\n" + sh("journalctl -b -u billy-wifi-setup -n 30 -o cat"))


def status() -> dict:
    try:
        return json.loads(STATUS.read_text())
    except (OSError, ValueError):
        return {}


def phase(name: str, since: float = 0):
    return lambda: (found := status()).get("phase") == name and found.get("at", 0) > since and found


def supplicant_state(command: str) -> str:
    for line in sh(command + " status", check=False).splitlines():
        if line.startswith("wpa_state="):
            return line.split("=", 1)[1]
    return ""


PHONE_CODE = r'''
import json, socket, struct, sys, urllib.error, urllib.parse, urllib.request
from pathlib import Path


def dhcp_offer(interface: str) -> dict:
    """One DHCPDISCOVER from the phone; the offer's address and options (router, DNS, captive portal URI)."""
    mac = bytes.fromhex(Path(f"/sys/class/net/{interface}/address").read_text().strip().replace(":", ""))
    discover = struct.pack("!BBBBIHH4s4s4s4s16s192xI", 1, 1, 6, 0, 0x4B1117, 0, 0x8000, b"", b"", b"", b"",
                           mac, 0x63825363) + bytes([53, 1, 1, 55, 3, 3, 6, 114, 255])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        client.bind(("0.0.0.0", 68))
        client.settimeout(5)
        for _ in range(12):
            client.sendto(discover, ("255.255.255.255", 67))
            try:
                reply = client.recv(1500)
            except TimeoutError:
                continue
            if reply[4:8] == struct.pack("!I", 0x4B1117):
                break
        else:
            raise RuntimeError("no DHCP offer on the setup network")
    options, at = {}, 240
    while at < len(reply) and reply[at] != 255:
        if reply[at] == 0:
            at += 1
            continue
        code, length = reply[at], reply[at + 1]
        options[code] = reply[at + 2:at + 2 + length]
        at += 2 + length
    return {
        "address": socket.inet_ntoa(reply[16:20]),
        "router": socket.inet_ntoa(options.get(3, b"\0\0\0\0")[:4]),
        "dns": socket.inet_ntoa(options.get(6, b"\0\0\0\0")[:4]),
        "captive_uri": options.get(114, b"").decode(),
    }



what = sys.argv[1]
if what == "dns":
    query = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"".join(
        bytes([len(p)]) + p.encode() for p in "connectivitycheck.gstatic.com".split(".")) + b"\0\0\1\0\1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(20); s.sendto(query, ("192.168.4.1", 53)); reply = s.recv(512)
    print(socket.inet_ntoa(reply[-4:]))
elif what == "check":
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a): return None
    try:
        urllib.request.build_opener(Stay).open("http://192.168.4.1/generate_204", timeout=60)
    except urllib.error.HTTPError as e:
        print(e.code, e.headers["Location"])
elif what == "page":
    print(urllib.request.urlopen("http://192.168.4.1/", timeout=60).read().decode())
elif what == "dhcp":
    print(json.dumps(dhcp_offer(sys.argv[2])))
elif what == "post":
    body = urllib.parse.urlencode({"ssid": sys.argv[2], "password": sys.argv[3], "country": "GB"}).encode()
    request = urllib.request.Request("http://192.168.4.1/join", data=body)
    print(urllib.request.urlopen(request, timeout=60).read().decode())
'''


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "phone.py").write_text(PHONE_CODE)
    sh("modprobe mac80211_hwsim radios=3")
    wait("three radios", lambda: all(Path(f"/sys/class/net/wlan{n}/phy80211").exists() for n in range(3)))

    # The home network: WPA2 on wlan2, with an address and networkd's DHCP server.
    (WORK / "home.conf").write_text(
        f"interface=wlan2\ndriver=nl80211\nssid={HOME_SSID}\nhw_mode=g\nchannel=1\nwpa=2\nwpa_key_mgmt=WPA-PSK\n"
        f"rsn_pairwise=CCMP\nwpa_passphrase={HOME_PASSWORD}\n"
    )
    Path("/run/systemd/network/04-test-home.network").write_text(
        "[Match]\nName=wlan2\n[Network]\nAddress=10.77.0.1/24\nConfigureWithoutCarrier=yes\nDHCPServer=yes\n"
        "[DHCPServer]\nPoolOffset=20\nPoolSize=20\n"
    )
    sh("networkctl reload")
    sh(f"hostapd -B -P {WORK}/home.pid -f {WORK}/home.log {WORK}/home.conf")
    wait("the home network", lambda: "type AP" in sh("iw dev wlan2 info", False))

    # The phone: its own radio in its own network namespace.
    phy = Path("/sys/class/net/wlan1/phy80211/name").read_text().strip()
    sh("ip netns add phone")
    sh(f"iw phy {phy} set netns name phone")
    phone("ip link set lo up")

    # No network: the default route goes, and IPv6 on the wired port with it (router advertisements would bring
    # a default route back). SSH stays: the boot test's machine is on the wired port's own link.
    wired = sh("ip route show default").split(" dev ")[1].split()[0]
    figures["wired"] = wired
    sh(f"sysctl -q -w net.ipv6.conf.{wired}.disable_ipv6=1")
    for family in ("-4", "-6"):
        while "default" in sh(f"ip {family} route show default"):
            sh(f"ip {family} route del default")
    before = time.time()
    sh("systemctl start billy-wifi-setup.service")
    wait("Billy waiting for a network", phase("waiting", before - 1))
    opened = wait("Billy-Setup open", phase("open", before))
    figures["no_network_to_setup_open_s"] = round(opened["at"] - before, 1)
    figures["heard_at_open"] = opened.get("heard", [])
    assert HOME_SSID in figures["heard_at_open"], opened
    figures["web_page_while_open"] = sh("systemctl is-active billy-web.service", False).strip()

    # The phone joins Billy-Setup (open), gets an address and is sent to the page.
    (WORK / "phone.conf").write_text(
        f'ctrl_interface={WORK}/phone-ctrl\nnetwork={{\n\tssid="Billy-Setup"\n\tkey_mgmt=NONE\n}}\n'
    )
    phone(f"wpa_supplicant -B -i wlan1 -c {WORK}/phone.conf -P {WORK}/phone.pid")
    phone_cli = f"ip netns exec phone wpa_cli -p {WORK}/phone-ctrl -i wlan1"
    wait("the phone on Billy-Setup", lambda: supplicant_state(phone_cli) == "COMPLETED")
    offer = json.loads(phone(f"python3 {WORK}/phone.py dhcp wlan1"))
    figures["dhcp_offer"] = offer
    phone(f"ip address add {offer['address']}/24 dev wlan1")
    figures["dns_answer"] = phone(f"python3 {WORK}/phone.py dns").strip()
    figures["connectivity_check"] = phone(f"python3 {WORK}/phone.py check").strip()
    page = phone(f"python3 {WORK}/phone.py page")
    figures["page_lists_home"] = HOME_SSID in page

    # A wrong password: Billy tries, fails, opens Billy-Setup again, and the page says why.
    before = time.time()
    figures["wrong_reply"] = "Joining HomeNet" in phone(f"python3 {WORK}/phone.py post {HOME_SSID} '{WRONG_PASSWORD}'")
    failed = wait("the wrong password refused", phase("failed", before))
    figures["wrong_problem"] = failed.get("problem", "")
    reopened = wait("Billy-Setup open again", phase("open", failed["at"]))
    figures["reopened_problem"] = reopened.get("problem", "")
    wait("the phone back on Billy-Setup", lambda: supplicant_state(phone_cli) == "COMPLETED")
    page = wait("the page again", lambda: phone(f"python3 {WORK}/phone.py page", False), alive=lambda: "")
    figures["page_says_why"] = "did not accept the password" in page

    # The right one: Billy joins the home network and closes Billy-Setup.
    before = time.time()
    phone(f"python3 {WORK}/phone.py post {HOME_SSID} '{HOME_PASSWORD}'")
    joined = wait("Billy on the home network", phase("joined", before))
    figures["joined"] = {key: joined.get(key) for key in ("ssid", "address")}
    figures["joined_after_s"] = round(joined["at"] - before, 1)
    billy = sh("wpa_cli -i wlan0 status")
    figures["billy_wpa"] = {
        k: v
        for k, v in (line.split("=", 1) for line in billy.splitlines() if "=" in line)
        if k in ("wpa_state", "ssid")
    }
    wait(
        "the setup unit done",
        lambda: sh("systemctl is-active billy-wifi-setup.service", False).strip() in ("inactive", "failed"),
        alive=lambda: "",
    )
    figures["setup_unit_after"] = sh("systemctl is-active billy-wifi-setup.service", False).strip()
    figures["billy_interface_type"] = " ".join(sh("iw dev wlan0 info").split("type ")[1].split()[:1])
    wait("the phone off Billy-Setup", lambda: supplicant_state(phone_cli) != "COMPLETED", alive=lambda: "")
    figures["default_route"] = sh("ip route show default").strip()
    figures["web_page_after"] = sh("systemctl is-active billy-web.service", False).strip()
    stored = Path("/etc/wpa_supplicant/wpa_supplicant-wlan0.conf")
    figures["stored_mode"] = oct(stored.stat().st_mode & 0o777)
    figures["password_in_file"] = HOME_PASSWORD in stored.read_text() or HOME_SSID in stored.read_text()

    # The router slower than the fish (a power cut): Billy knows HomeNet but it is not there, so Billy-Setup
    # opens; HomeNet comes back and, with nobody choosing, Billy goes back to it by himself.
    with open("/etc/billy/local.env", "a") as local:
        local.write("BILLY_WIFI_SETUP_RETRY_SECONDS=30\n")
    sh(f"kill {(WORK / 'home.pid').read_text().strip()}")
    wait("HomeNet gone", lambda: "default" not in sh("ip route show default"), alive=lambda: "")
    before = time.time()
    sh("systemctl start billy-wifi-setup.service")
    reopened = wait("Billy-Setup open without HomeNet", phase("open", before))
    sh(f"hostapd -B -P {WORK}/home.pid -f {WORK}/home.log {WORK}/home.conf")
    back = wait("Billy back on HomeNet by himself", phase("online", reopened["at"]))
    figures["known_network_back_through"] = back.get("through")
    figures["known_network_back_after_s"] = round(back["at"] - reopened["at"], 1)
    figures["seconds"] = round(time.monotonic() - started, 1)


def tidy() -> None:
    if figures.get("wired"):
        sh(f"sysctl -q -w net.ipv6.conf.{figures['wired']}.disable_ipv6=0", check=False)
    for pid in ("home.pid", "phone.pid"):
        path = WORK / pid
        if path.exists():
            sh(f"kill {path.read_text().strip()}", check=False)
    sh("ip netns delete phone", check=False)
    Path("/run/systemd/network/04-test-home.network").unlink(missing_ok=True)
    sh(f"networkctl reload; networkctl reconfigure {figures.get('wired', 'eth0')}", check=False)


if __name__ == "__main__":
    try:
        main()
        figures["ok"] = True
    except Exception as error:  # reported to the boot test, which fails with it
        figures["ok"] = False
        figures["error"] = f"{type(error).__name__}: {error}"
    finally:
        tidy()
    print(json.dumps(figures), flush=True)
    os._exit(0)  # the flush above first: _exit drops what stdio still holds
