"""News sites and Open-Meteo on a real socket: RSS 2.0 and Atom feeds as news sites serve them, Open-Meteo's
geocoding and forecast answers in its documented JSON, and the ways a source goes wrong (slow, silent, huge,
an error page, HTML where a feed should be)."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from standins import StandIn

WORLD_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Reef World News</title>
  <link>https://news.example/</link>
  <description>Top stories</description>
  <atom:link href="https://news.example/world.rss" rel="self" type="application/rss+xml"/>
  <item>
    <title>Storm &amp; floods hit the &lt;b&gt;coast&lt;/b&gt;</title>
    <link>https://news.example/storm</link>
    <pubDate>Sun, 06 Dec 2026 08:00:00 GMT</pubDate>
  </item>
  <item>
    <title><![CDATA[Harbour reopens
      after   repairs]]></title>
    <link>https://news.example/harbour</link>
  </item>
  <item><title>Third world story</title></item>
</channel>
</rss>
"""
TECH_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">Fish Tech</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-12-06T09:00:00Z</updated>
  <entry>
    <title type="html">New sonar finds lost &lt;i&gt;treasure&lt;/i&gt;!</title>
    <link href="https://tech.example/sonar"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2026-12-06T08:30:00Z</updated>
  </entry>
  <entry>
    <title>Robot fish learns to sing</title>
    <link href="https://tech.example/robot"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6b</id>
    <updated>2026-12-06T07:30:00Z</updated>
  </entry>
</feed>
"""
# A second feed carrying the first one's top story (agencies do): it is read once.
SAME_RSS = WORLD_RSS.replace("Reef World News", "Reef Local").replace("Third world story", "Local story")
HTML_PAGE = "<!DOCTYPE html><html><head><title>Moved</title></head><body><p>Our feeds moved.</p></body></html>"
HUGE_BYTES = 3_000_000  # beyond Billy's cap (integrations/feeds.py MAX_FEED_BYTES)

UTRECHT = {"name": "Utrecht", "latitude": 52.09083, "longitude": 5.12222, "country": "Netherlands", "admin1": "Utrecht"}
SPRINGFIELDS = [
    {
        "name": "Springfield",
        "latitude": 37.21533,
        "longitude": -93.29824,
        "country": "United States",
        "admin1": "Missouri",
    },
    {
        "name": "Springfield",
        "latitude": 39.80172,
        "longitude": -89.64371,
        "country": "United States",
        "admin1": "Illinois",
    },
]
FORECAST = {
    "latitude": 52.1,
    "longitude": 5.12,
    "generationtime_ms": 0.05,
    "utc_offset_seconds": 3600,
    "timezone": "Europe/Amsterdam",
    "timezone_abbreviation": "GMT+1",
    "elevation": 13.0,
    "current_units": {"time": "iso8601", "interval": "seconds", "temperature_2m": "°C", "weather_code": "wmo code"},
    "current": {"time": "2026-12-06T15:45", "interval": 900, "temperature_2m": 7.3, "weather_code": 61},
    "daily_units": {"time": "iso8601", "temperature_2m_max": "°C", "temperature_2m_min": "°C",
                    "precipitation_probability_max": "%"},
    "daily": {"time": ["2026-12-06"], "temperature_2m_max": [8.9], "temperature_2m_min": [3.2],
              "precipitation_probability_max": [80]},
}  # fmt: skip


class NewsStandIn(StandIn):
    """Feeds under /feeds/, Open-Meteo under /v1/ (`forecast` may be swapped for a broken answer). Every
    request's path and query is kept in `requests`."""

    def __init__(self) -> None:
        self.forecast: object = FORECAST
        self.closing = threading.Event()  # ends the slow and silent answers when the test is over
        super().__init__(_NewsHandler)

    def close(self) -> None:
        self.closing.set()
        super().close()


class _NewsHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        standin: NewsStandIn = self.server.standin
        address = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(address.query).items()}
        standin.requests.append({"path": address.path, "query": query})
        route = {
            "/feeds/world.rss": lambda: self._send(WORLD_RSS, "application/rss+xml"),
            "/feeds/tech.atom": lambda: self._send(TECH_ATOM, "application/atom+xml"),
            "/feeds/same.rss": lambda: self._send(SAME_RSS, "application/rss+xml"),
            "/feeds/page.html": lambda: self._send(HTML_PAGE, "text/html"),
            "/feeds/error.rss": lambda: self._send("Internal Server Error", "text/plain", 500),
            "/feeds/slow.rss": self._trickle,
            "/feeds/silent.rss": lambda: standin.closing.wait(120),
            "/feeds/huge.rss": self._huge,
            "/v1/search": lambda: self._send(json.dumps(_places(query.get("name", ""))), "application/json"),
            "/v1/forecast": lambda: self._send(_text(standin.forecast), "application/json"),
        }.get(address.path, lambda: self._send("not found", "text/plain", 404))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # Billy hung up: too slow or too big
            route()

    def _send(self, body: str, content_type: str, status: int = 200) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _trickle(self) -> None:
        """A feed that comes a few bytes at a time, never finishing within any sane deadline."""
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        for char in WORLD_RSS:
            self.wfile.write(char.encode())
            self.wfile.flush()
            if self.server.standin.closing.wait(0.1):
                return

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>')
        item = b"<item><title>" + b"x" * 1000 + b"</title></item>"
        for _ in range(HUGE_BYTES // len(item) + 1):
            self.wfile.write(item)


def _places(name: str) -> dict:
    known = {"utrecht": [UTRECHT], "springfield": SPRINGFIELDS}
    found = known.get(name.lower())
    return {"results": found, "generationtime_ms": 0.6} if found else {"generationtime_ms": 0.4}


def _text(answer: object) -> str:
    return answer if isinstance(answer, str) else json.dumps(answer)
