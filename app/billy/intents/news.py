"""The news and the weather, read out in the persona's words: one desk for Billy's own intents ("what's in the
news?", "what's the weather?": the small offline model needs none of it) and for the `get_news_digest` tool of
models that call tools (the original's name). A source that is down, slow or broken gets a spoken "I can't
reach ..." and a log line naming it; nothing waits longer than `NEWS_REQUEST_TIMEOUT_SECONDS` per source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from billy.conversation.answer import Answer
from billy.integrations.feeds import FeedError, headlines
from billy.integrations.weather import Weather, WeatherError
from billy.intents.asked import BY, Asked
from billy.intents.phrasebook import Phrasebook
from billy.persona.persona import Persona

LOG = logging.getLogger(__name__)
HEADLINES = 3  # what a person listens to before wanting to speak again


@dataclass
class NewsDesk:
    feeds: tuple[str, ...]
    weather: Weather
    timeout: float
    language: str = "en"  # for the tool, which is not told the language spoken
    # Home Assistant answers "what's the weather" itself when Billy has no place of his own.
    weather_elsewhere: bool = False
    client: httpx.Client = field(default_factory=httpx.Client)

    def news(self, book: Phrasebook, persona: Persona | None) -> str:
        if not self.feeds:
            return book.say("news_no_feeds", persona)
        try:
            found = headlines(self.feeds, HEADLINES, self.timeout, self.client)
        except FeedError as error:
            LOG.warning("news: nothing to read: %s", error)
            return book.say("news_unreachable", persona)
        read = " ".join(_sentence(headline.title.replace(" & ", f" {book.book['and']} ")) for headline in found)
        return book.say("news", persona, headlines=read)

    def forecast(self, book: Phrasebook, persona: Persona | None) -> str:
        if not self.weather.configured:
            return book.say("weather_no_place", persona)
        try:
            today = self.weather.today(book.language)
        except WeatherError as error:
            LOG.warning("weather: %s", error)
            return book.say("weather_unreachable", persona)
        values = {
            "place": today.place,
            "sky": book.book["weather_sky"][today.sky],
            "temperature": round(today.temperature),
            "low": round(today.low),
            "high": round(today.high),
            "rain": today.rain_chance,
        }
        return book.say("weather" if today.place else "weather_here", persona, **values)

    def has_sources(self) -> bool:
        """Whether there is anything to read: feeds, or a place for the weather."""
        return bool(self.feeds) or self.weather.configured

    def takes_weather(self) -> bool:
        """Whether Billy answers the weather himself (else Home Assistant, which may have its own)."""
        return self.weather.configured or not self.weather_elsewhere


def _sentence(title: str) -> str:
    return title if title.endswith((".", "!", "?", "...")) else f"{title}."


def _read(what: Callable[[NewsDesk], Callable[[Phrasebook, Persona | None], str]]):
    def handler(asked: Asked) -> Answer:
        desk = asked.abilities.news
        return Answer(BY, what(desk)(asked.book, asked.abilities.personas.persona))

    return handler


HANDLERS = {
    "BillyNews": _read(lambda desk: desk.news),
    "HassGetWeather": _read(lambda desk: desk.forecast),
    "BillyWeather": _read(lambda desk: desk.forecast),
}
WEATHER_INTENTS = frozenset({"HassGetWeather", "BillyWeather"})
