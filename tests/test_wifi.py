"""The Billy-Setup Wi-Fi's own parts on real sockets: the captive name server and page, the checks of what a
phone sends, wpa_supplicant's file, the boot decision, the scan parser. The radios themselves (hostapd,
wpa_supplicant, three simulated radios) are exercised in the booted image: `make image-test`."""

from __future__ import annotations

import socket
import struct
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings
from billy.wifi.access_point import AccessPoint
from billy.wifi.captive_dns import CaptiveDns, answer
from billy.wifi.captive_page import OTHER, CaptivePage
from billy.wifi.networks import NetworkRefused, check_country, check_network, supplicant_config, write_private
from billy.wifi.online import button_held, default_route, wait_for_network
from billy.wifi.radio import HeardNetwork, parse_scan

HEARD = [HeardNetwork("HomeNet", -31.0, True), HeardNetwork("<b>Café</b>", -70.0, False)]


def dns_query(name: str, qtype: int = 1, ident: int = 0x1234) -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", qtype, 1)


def test_every_name_is_billy_on_a_real_socket():
    server = CaptiveDns("127.0.0.1", 0)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(10)
            client.sendto(dns_query("connectivitycheck.gstatic.com"), ("127.0.0.1", server.port))
            reply = client.recv(512)
    finally:
        server.close()
    ident, flags, questions, answers = struct.unpack("!HHHH", reply[:8])
    assert (ident, questions, answers) == (0x1234, 1, 1)
    assert flags & 0x8000 and flags & 0x0400 and not flags & 0x000F  # a reply, authoritative, no error
    assert reply.endswith(socket.inet_aton("127.0.0.1"))


def test_other_questions_get_no_address_and_garbage_no_reply():
    aaaa = answer(dns_query("captive.apple.com", qtype=28), "192.168.4.1")
    assert struct.unpack("!H", aaaa[6:8])[0] == 0
    assert answer(b"\x12", "192.168.4.1") is None
    assert answer(dns_query("x.org")[:14], "192.168.4.1") is None  # cut inside the name
    reply = bytearray(dns_query("x.org"))
    reply[2] |= 0x80  # a reply, not a question: never answered (no reflection between two servers)
    assert answer(bytes(reply), "192.168.4.1") is None
    pointer = struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    assert answer(pointer, "192.168.4.1") is None


@pytest.fixture
def page():
    chosen: list = []
    served = CaptivePage("127.0.0.1", 0, HEARD, "GB", "", lambda network, country: chosen.append((network, country)))
    served.chosen_list = chosen
    yield served
    served.close()


def post(port: int, fields: dict) -> tuple[int, str]:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/join", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_page_lists_what_billy_hears_escaped(page):
    with urllib.request.urlopen(f"http://127.0.0.1:{page.port}/", timeout=10) as response:
        text = response.read().decode()
    assert "HomeNet 🔒 (-31 dBm)" in text
    assert "&lt;b&gt;Café&lt;/b&gt;" in text and "<b>Café" not in text
    assert 'value="GB"' in text


def test_a_phones_connectivity_check_is_sent_to_the_page(page):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as found:
        opener.open(f"http://127.0.0.1:{page.port}/generate_204", timeout=10)
    assert found.value.code == 302 and found.value.headers["Location"] == "http://127.0.0.1/"


def test_a_bad_form_is_explained_and_nothing_is_handed_over(page):
    status, text = post(page.port, {"ssid": "HomeNet", "password": "short", "country": "GB"})
    assert status == 422 and "8 to 63 characters" in text
    status, text = post(page.port, {"ssid": "HomeNet", "password": "long enough", "country": "G8"})
    assert status == 422 and "two-letter code" in text
    status, text = post(page.port, {"ssid": OTHER, "other": "", "password": ""})
    assert status == 422 and "choose a network" in text.lower()
    status, text = post(page.port, {"ssid": "Home\nNet", "password": ""})
    assert status == 422 and "control character" in text
    assert page.chosen_list == []


def test_the_first_good_form_is_handed_over_once(page):
    status, text = post(page.port, {"ssid": OTHER, "other": "Hidden Net", "password": "correct horse", "country": "nl"})
    assert status == 200 and "Joining Hidden Net" in text
    post(page.port, {"ssid": "HomeNet", "password": "another one"})  # a second phone: too late
    [(network, country)] = page.chosen_list
    assert (network.ssid, network.passphrase, country) == ("Hidden Net", "correct horse", "NL")


def test_a_failed_try_is_shown_on_the_page_that_comes_back():
    served = CaptivePage("127.0.0.1", 0, HEARD, "", "HomeNet did not accept the password", lambda *chosen: None)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/", timeout=10) as response:
            assert 'role="alert">HomeNet did not accept the password<' in response.read().decode()
    finally:
        served.close()


def test_the_file_holds_the_key_not_the_password(tmp_path: Path):
    # IEEE 802.11i-2004, annex H.4.1: passphrase "password", SSID "IEEE".
    assert check_network("IEEE", "password").psk() == "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
    name = 'Bob "the" Net'
    text = supplicant_config(check_network(name, "hunter2hunter2"), "GB")
    assert "hunter2" not in text and name not in text
    assert f"ssid={name.encode().hex()}" in text and "country=GB" in text and "key_mgmt=WPA-PSK" in text
    assert "key_mgmt=NONE" in supplicant_config(check_network("Open Cafe", ""), "")
    written = tmp_path / "wpa_supplicant" / "wpa_supplicant-wlan0.conf"
    write_private(written, text)
    assert written.read_text() == text and written.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("ssid", "passphrase", "problem"),
    [
        ("", "whatever1", "choose a network"),
        ("x" * 33, "", "at most 32 bytes"),
        ("ééééééééééééééééé", "", "at most 32 bytes"),  # 17 characters, 34 bytes
        ("Net", "1234567", "8 to 63"),
        ("Net", "x" * 64, "8 to 63"),
        ("Net", "pässwörd", "plain ASCII"),
        ("Net\x00", "", "control character"),
    ],
)
def test_what_cannot_be_a_network_is_refused(ssid, passphrase, problem):
    with pytest.raises(NetworkRefused, match=problem):
        check_network(ssid, passphrase)


def test_a_hex_key_and_a_country_are_taken_as_typed():
    assert check_network("Net", "AB" * 32).psk() == "ab" * 32
    assert check_country(" de ") == "DE" and check_country("") == ""


def test_the_country_setting_names_itself_and_what_it_allows():
    assert load_settings({"WIFI_COUNTRY": "gb"}).wifi_country == "GB"
    with pytest.raises(ConfigError, match=r"WIFI_COUNTRY=.Britain.*two-letter country code"):
        load_settings({"WIFI_COUNTRY": "Britain"})
    with pytest.raises(ConfigError, match="BILLY_WIFI_SETUP_SECONDS"):
        load_settings({"BILLY_WIFI_SETUP_SECONDS": "-1"})


ROUTE_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
LINK_ROUTE = "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
DEFAULT_ROUTE = "wlan0\t00000000\t0104A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
V6_REJECT = f"{'0' * 32} 00 {'0' * 32} 00 {'0' * 32} ffffffff 00000001 00000000 00200200 lo\n"
V6_DEFAULT = f"{'0' * 32} 00 {'0' * 32} 00 fe800000000000000000000000000001 00000400 00000001 0 00450003 eth0\n"


def proc_net(tmp_path: Path, route: str, ipv6: str = "") -> Path:
    (tmp_path / "route").write_text(ROUTE_HEADER + route)
    (tmp_path / "ipv6_route").write_text(ipv6)
    return tmp_path


def test_a_default_route_is_a_network_and_a_link_route_is_not(tmp_path: Path):
    assert default_route(proc_net(tmp_path, LINK_ROUTE, V6_REJECT)) is None
    assert default_route(proc_net(tmp_path, LINK_ROUTE + DEFAULT_ROUTE)) == "wlan0"
    assert default_route(proc_net(tmp_path, LINK_ROUTE, V6_REJECT + V6_DEFAULT)) == "eth0"
    assert default_route(tmp_path / "nowhere") is None


def test_waiting_ends_when_the_network_comes_or_the_time_is_up(tmp_path: Path):
    folder = proc_net(tmp_path, LINK_ROUTE)
    now = [0.0]
    stop = threading.Event()
    stop.wait = lambda seconds: now.__setitem__(0, now[0] + seconds) or False  # a clock that never sleeps
    assert wait_for_network(60, stop, proc_net=folder, clock=lambda: now[0]) is None
    assert now[0] == pytest.approx(60)
    calls = [0]

    def network_after_three_looks(seconds: float) -> bool:
        calls[0] += 1
        if calls[0] == 3:
            (folder / "route").write_text(ROUTE_HEADER + DEFAULT_ROUTE)
        now[0] += seconds
        return False

    now[0] = 0.0
    stop.wait = network_after_three_looks
    assert wait_for_network(60, stop, proc_net=folder, clock=lambda: now[0]) == "wlan0"
    assert now[0] == pytest.approx(6)


def test_no_button_or_no_gpio_opens_nothing():
    assert button_held(None, "mock") is False
    assert button_held(27, "mock") is False  # mock pins rest high: pulled up, not pressed


IW_SCAN = """BSS 02:00:00:00:02:00(on wlan0)
\tfreq: 2437
\tsignal: -30.00 dBm
\tcapability: ESS Privacy ShortSlotTime (0x0411)
\tSSID: HomeNet
\tRSN:\t * Version: 1
BSS 02:00:00:00:03:00(on wlan0)
\tsignal: -60.00 dBm
\tcapability: ESS ShortSlotTime (0x0401)
\tSSID: Caf\\xc3\\xa9 open
BSS 02:00:00:00:04:00(on wlan0)
\tsignal: -50.00 dBm
\tSSID: HomeNet
\tRSN:\t * Version: 1
BSS 02:00:00:00:05:00(on wlan0)
\tsignal: -20.00 dBm
\tSSID:\x20
"""


def test_a_scan_is_one_line_per_network_strongest_first():
    assert parse_scan(IW_SCAN) == [HeardNetwork("HomeNet", -30.0, True), HeardNetwork("Café open", -60.0, False)]
    assert parse_scan("") == []


def test_the_access_point_points_phones_at_billy():
    access_point = AccessPoint("wlan0", "DE")
    config = access_point.hostapd_config()
    assert "ssid=Billy-Setup" in config and "wpa=0" in config and "country_code=DE" in config
    network = access_point.network_file()
    assert "Address=192.168.4.1/24" in network and "DHCPServer=yes" in network
    assert "SendOption=114:string:http://192.168.4.1/" in network and "DNS=192.168.4.1" in network
    assert access_point.network_path.name < "25-wireless.network"  # networkd takes the first file that matches


IMAGER_NETWORK_CONFIG = """network:
  version: 2
  wifis:
    renderer: networkd
    wlan0:
      dhcp4: true
      regulatory-domain: "NL"
      access-points:
        "Home Net":
          password: "%s"
      optional: true
"""


def test_imagers_wifi_is_taken_over_once(tmp_path: Path):
    from billy.wifi.imager import take_over

    config, folder = tmp_path / "network-config", tmp_path / "wpa_supplicant"
    key = check_network("Home Net", "sardines on toast").psk()  # Imager writes the derived key
    config.write_text(IMAGER_NETWORK_CONFIG % key)
    assert take_over("wlan0", config, folder) is True
    written = (folder / "wpa_supplicant-wlan0.conf").read_text()
    assert f"psk={key}" in written and "country=NL" in written and b"Home Net".hex() in written
    # The owner then chose another network on the setup page: the card's old one must not come back.
    (folder / "wpa_supplicant-wlan0.conf").write_text("chosen on the page")
    assert take_over("wlan0", config, folder) is False
    assert (folder / "wpa_supplicant-wlan0.conf").read_text() == "chosen on the page"
    assert take_over("wlan1", config, folder) is False  # no network for that radio


def test_a_broken_imager_file_changes_nothing(tmp_path: Path):
    from billy.wifi.imager import take_over

    config, folder = tmp_path / "network-config", tmp_path / "wpa_supplicant"
    for text in ("network: [unclosed", IMAGER_NETWORK_CONFIG % "short", "{}", ""):
        config.write_text(text)
        assert take_over("wlan0", config, folder) is False
    assert not folder.exists()
    assert take_over("wlan0", tmp_path / "absent", folder) is False
