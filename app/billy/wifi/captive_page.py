"""The page a phone meets on the setup network: the networks Billy hears, a password field, and the outcome of
the last try. Any other address (a phone's connectivity check) is sent to it, which is what makes the phone
show it as a sign-in page.

A plain HTTP server on the access point's address only: it takes one form, checks it (billy.wifi.networks)
and hands the network over once its reply has been sent, because the access point closes right after.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from billy.wifi.networks import HomeNetwork, NetworkRefused, check_country, check_network
from billy.wifi.radio import HeardNetwork

LOG = logging.getLogger(__name__)
LARGEST_FORM = 4096
# The list's "another network" entry: longer than any network's name can be (32 bytes), so never one of them.
OTHER = "-- another network: the name typed below --"

STYLE = """body{font-family:sans-serif;max-width:26rem;margin:1.5rem auto;padding:0 1rem;background:#0d2b36}
body{color:#eee}label{display:block;margin:1rem 0 .3rem}
select,input,button{width:100%;padding:.7rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.2rem;background:#2e9a5b;color:#fff;border:0;border-radius:.3rem}
.problem{background:#7a2020;padding:.7rem;border-radius:.3rem}.note{color:#aac}"""


def form_page(networks: Sequence[HeardNetwork], country: str, problem: str = "", typed: str = "") -> str:
    options = "".join(
        f'<option value="{html.escape(network.ssid)}"{" selected" if network.ssid == typed else ""}>'
        f"{html.escape(network.ssid)}{' 🔒' if network.secured else ''} ({network.signal_dbm:.0f} dBm)</option>"
        for network in networks
    )
    other = typed if typed and all(network.ssid != typed for network in networks) else ""
    problem_html = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Billy's Wi-Fi</title><style>{STYLE}</style>
</head><body><h1>Billy's Wi-Fi</h1>{problem_html}
<p>Choose the network Billy should join. He closes this setup network and joins it; you will find him at
<b>http://billy.local</b> on that network.</p>
<form method="post" action="/join">
<label for="ssid">Network</label><select id="ssid" name="ssid">{options}
<option value="{OTHER}"{" selected" if other or not networks else ""}>Another network (type its name)</option>
</select>
<label for="other">Its name, if not in the list</label>
<input id="other" name="other" maxlength="32" value="{html.escape(other)}">
<label for="password">Password (empty for an open network)</label>
<input id="password" name="password" type="password" maxlength="64" autocomplete="off">
<label for="country">Country (two letters, for the radio's channels)</label>
<input id="country" name="country" maxlength="2" value="{html.escape(country)}">
<button type="submit">Join</button></form>
<p class="note">{len(networks)} networks heard.</p></body></html>"""


def joining_page(ssid: str) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Billy's Wi-Fi</title><style>{STYLE}</style>
</head><body><h1>Joining {html.escape(ssid)}</h1>
<p>Billy is closing this setup network and joining <b>{html.escape(ssid)}</b>. Put your phone back on that
network and open <b>http://billy.local</b>. If he cannot join, "Billy-Setup" comes back in a minute and this
page says why.</p></body></html>"""


def read_form(body: bytes) -> tuple[str, str, str]:
    """(ssid, password, country) from the posted form: the list's choice, or the typed name for "another"."""
    fields = parse_qs(body.decode("utf-8", "strict"), keep_blank_values=True, max_num_fields=8)
    value = {name: values[0] if len(values) == 1 else "" for name, values in fields.items()}
    chosen = value.get("ssid", "")
    ssid = value.get("other", "") if chosen in ("", OTHER) else chosen
    return ssid, value.get("password", ""), value.get("country", "")


class CaptivePage:
    """Serves the page on (address, port) until closed; `on_network(network, country)` gets the owner's choice."""

    def __init__(
        self,
        address: str,
        port: int,
        networks: Sequence[HeardNetwork],
        country: str,
        problem: str,
        on_network: Callable[[HomeNetwork, str], None],
    ) -> None:
        page = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "Billy"

            def log_message(self, format: str, *args) -> None:
                LOG.debug("captive page: " + format, *args)

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/":
                    # A phone's connectivity check (generate_204, hotspot-detect.html ...): to the page.
                    self.send_response(302)
                    self.send_header("Location", f"http://{address}/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._reply(200, form_page(page.networks, page.country, page.problem))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != "/join" or not 0 < length <= LARGEST_FORM:
                    self._reply(400, form_page(page.networks, page.country, "That was not Billy's form."))
                    return
                try:
                    ssid, password, country = read_form(self.rfile.read(length))
                    network, country = check_network(ssid, password), check_country(country)
                except (NetworkRefused, UnicodeDecodeError, ValueError) as problem:
                    text = str(problem) if isinstance(problem, NetworkRefused) else "the form could not be read"
                    self._reply(422, form_page(page.networks, page.country, text.capitalize() + ".", ""))
                    return
                self._reply(200, joining_page(network.ssid))
                self.wfile.flush()
                page.chosen(network, country)

            def _reply(self, status: int, text: str) -> None:
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self.networks, self.country, self.problem = list(networks), country, problem
        self._on_network = on_network
        self._lock = threading.Lock()
        self._taken = False
        self.server = ThreadingHTTPServer((address, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="captive-page", daemon=True)
        self._thread.start()

    def chosen(self, network: HomeNetwork, country: str) -> None:
        with self._lock:  # two phones at once: the first choice is the one tried
            if self._taken:
                return
            self._taken = True
        self._on_network(network, country)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
