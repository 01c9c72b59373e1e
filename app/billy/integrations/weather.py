"""Today's weather from Open-Meteo (no key, no account) for the place in `WEATHER_LOCATION`.

The place is a name ("Utrecht", "Springfield, Illinois") that Open-Meteo's geocoding API turns into coordinates
once (kept for the next question), or "latitude,longitude" as written on a map. The forecast asked for is the
little Billy reads out: the temperature now, the sky (a WMO weather code), today's low and high and the chance
of rain. Both addresses are settings, so a self-hosted Open-Meteo serves as well (and the tests' stand-in).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass

import httpx

from billy.integrations.fetch import FetchError, download

MAX_ANSWER_BYTES = 200_000  # a one-day forecast is about 1 kB
COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
# WMO weather interpretation codes (Open-Meteo's `weather_code`), grouped into what Billy has words for
# (`weather_sky` in intents/answers/<language>.yaml).
SKIES = {
    "clear": (0, 1),
    "cloudy": (2, 3),
    "fog": (45, 48),
    "drizzle": (51, 53, 55, 56, 57),
    "rain": (61, 63, 65, 66, 67, 80, 81, 82),
    "snow": (71, 73, 75, 77, 85, 86),
    "thunder": (95, 96, 99),
}
SKY_OF_CODE = {code: sky for sky, codes in SKIES.items() for code in codes}


class WeatherError(Exception):
    """No forecast: the message names the place or the service and why."""


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Forecast:
    place: str
    temperature: float  # now
    sky: str  # a key of SKIES
    low: float  # today
    high: float
    rain_chance: int  # percent, today


class Weather:
    def __init__(
        self,
        location: str,
        forecast_url: str,
        geocoding_url: str,
        timeout: float,
        fahrenheit: bool = False,
        client: httpx.Client | None = None,
    ) -> None:
        self.location = location.strip()
        self.forecast_url = forecast_url
        self.geocoding_url = geocoding_url
        self.timeout = timeout
        self.fahrenheit = fahrenheit
        self._client = client or httpx.Client()
        self._place: Place | None = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.location)

    def today(self, language: str = "en") -> Forecast:
        place = self.place(language)
        answer = self._json(
            self.forecast_url,
            {
                "latitude": place.latitude,
                "longitude": place.longitude,
                "current": "temperature_2m,weather_code",
                "daily": "temperature_2m_max,temperature_2m_min,precipitation_probability_max",
                "timezone": "auto",
                "forecast_days": 1,
                "temperature_unit": "fahrenheit" if self.fahrenheit else "celsius",
            },
        )
        try:
            current, daily = answer["current"], answer["daily"]
            return Forecast(
                place.name,
                float(current["temperature_2m"]),
                SKY_OF_CODE.get(int(current["weather_code"]), "cloudy"),
                float(daily["temperature_2m_min"][0]),
                float(daily["temperature_2m_max"][0]),
                int(daily.get("precipitation_probability_max", [0])[0] or 0),
            )
        except (KeyError, IndexError, TypeError, ValueError) as error:
            problem = f"{type(error).__name__} {error}"
            raise WeatherError(f"{self.forecast_url}: no forecast in the answer ({problem})") from None

    def place(self, language: str) -> Place:
        """The coordinates of `WEATHER_LOCATION`: as written, or asked of the geocoding API once."""
        with self._lock:
            if self._place is None:
                self._place = self._find(language)
            return self._place

    def _find(self, language: str) -> Place:
        if written := COORDINATES.match(self.location):
            latitude, longitude = float(written[1]), float(written[2])
            if abs(latitude) > 90 or abs(longitude) > 180:
                raise WeatherError(f"WEATHER_LOCATION={self.location!r}: not a latitude and longitude on Earth")
            return Place("", latitude, longitude)
        name = self.location.split(",")[0].strip()
        answer = self._json(self.geocoding_url, {"name": name, "count": 10, "language": language, "format": "json"})
        results = [result for result in answer.get("results") or [] if isinstance(result, dict)]
        qualifier = self.location.partition(",")[2].strip().lower()  # "Springfield, Illinois": the region decides
        if qualifier:
            results = [r for r in results if qualifier in f"{r.get('admin1', '')} {r.get('country', '')}".lower()]
        try:
            best = results[0]
            return Place(str(best.get("name") or name), float(best["latitude"]), float(best["longitude"]))
        except (IndexError, KeyError, TypeError, ValueError):
            raise WeatherError(f"WEATHER_LOCATION={self.location!r}: no such place known to Open-Meteo") from None

    def _json(self, url: str, parameters: dict) -> dict:
        address = str(httpx.URL(url, params=parameters))
        try:
            data = json.loads(download(self._client, address, self.timeout, MAX_ANSWER_BYTES))
        except FetchError as error:
            raise WeatherError(str(error)) from None
        except ValueError:
            raise WeatherError(f"{url}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise WeatherError(f"{url}: the answer is not a JSON object")
        return data
