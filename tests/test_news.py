"""The news and the weather (issue 25): the owner's RSS and Atom feeds and Open-Meteo, served by stand-ins on a
real socket, read by the real feedparser and httpx; Billy's own intents and the get_news_digest tool answering
from them in the persona's words; every way a source fails answered in words, never a hang."""

from __future__ import annotations

import json
import logging
import socket

import httpx
import pytest
from news_standins import NewsStandIn

from billy.conversation.tools import ToolBox, ToolError
from billy.integrations.feeds import headlines, read_feed, spoken_title
from billy.integrations.fetch import FetchError
from billy.integrations.weather import Weather
from billy.intents.answering import OwnIntents
from billy.intents.asked import Abilities
from billy.intents.matcher import IntentMatcher
from billy.intents.news import NewsDesk
from billy.intents.timers import TimerBoard
from billy.media.songs import SongLibrary
from billy.persona.library import PersonaLibrary
from billy.persona.people import People
from billy.services.llm.events import ToolCall
from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings

TIMEOUT = 5.0  # what a working source here gets; a failing one is given FAILING_TIMEOUT
FAILING_TIMEOUT = 1.0
MATCHER = IntentMatcher()
RAIN_IN_UTRECHT = ("Utrecht", "7", "3", "9", "80")  # the stand-in's forecast, rounded as Billy says it


@pytest.fixture
def news():
    standin = NewsStandIn()
    yield standin
    standin.close()


def _dead_address() -> str:
    """An address nothing listens on: the port of a socket just closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _desk(news: NewsStandIn, feeds: tuple[str, ...], location: str = "Utrecht", **kwargs) -> NewsDesk:
    weather = Weather(location, f"{news.url}/v1/forecast", f"{news.url}/v1/search", TIMEOUT)
    return NewsDesk(tuple(f"{news.url}/feeds/{feed}" for feed in feeds), weather, TIMEOUT, **kwargs)


def _intents(tmp_path, desk: NewsDesk) -> OwnIntents:
    abilities = Abilities(
        songs=SongLibrary(tmp_path),
        personas=PersonaLibrary(tmp_path),
        people=People(tmp_path),
        timers=TimerBoard(tmp_path, lambda timer: None),
        volume=lambda: 70,
        set_volume=lambda volume: None,
        mute=lambda: None,
        end_conversation=lambda: None,
        user=lambda: "guest",
        set_user=lambda name: None,
        news=desk,
    )
    own = OwnIntents(MATCHER, "en")
    own.abilities = abilities
    return own


def test_headlines_come_from_each_feed_in_turn_cleaned_for_speaking(news):
    found = headlines([f"{news.url}/feeds/{feed}" for feed in ("world.rss", "tech.atom", "same.rss")], 5, TIMEOUT)
    assert [(headline.title, headline.source) for headline in found] == [
        ("Storm & floods hit the coast", "Reef World News"),
        ("New sonar finds lost treasure!", "Fish Tech"),
        # same.rss's top story is world.rss's: read once
        ("Harbour reopens after repairs", "Reef World News"),
        ("Robot fish learns to sing", "Fish Tech"),
        ("Third world story", "Reef World News"),
    ]


def test_a_title_is_made_fit_to_say():
    assert spoken_title("Line\u2028break\x00and\ttab <a href='x'>link</a> &eacute;t&eacute;") == (
        "Line break and tab link été"
    )
    long = spoken_title("word " * 100)
    assert len(long) <= 160 + len(" ...") and long.endswith(" ...")


@pytest.mark.parametrize(
    ("feed", "reason"),
    [
        ("slow.rss", "not complete after 1 s"),
        ("silent.rss", "ReadTimeout"),
        ("huge.rss", "bigger than 2000000 bytes"),
        ("error.rss", "HTTP 500"),
        ("page.html", "not a news feed"),
        ("missing.rss", "HTTP 404"),
    ],
)
def test_a_failing_feed_costs_at_most_its_deadline_and_says_why(news, feed, reason):
    url = f"{news.url}/feeds/{feed}"
    with pytest.raises(FetchError) as failure:
        read_feed(httpx.Client(), url, FAILING_TIMEOUT)
    assert url in str(failure.value) and reason in str(failure.value)


def test_a_broken_feed_beside_good_ones_is_logged_and_skipped(news, caplog):
    with caplog.at_level(logging.WARNING):
        found = headlines([f"{news.url}/feeds/error.rss", f"{news.url}/feeds/tech.atom"], 3, TIMEOUT)
    assert [headline.source for headline in found] == ["Fish Tech", "Fish Tech"]
    assert f"{news.url}/feeds/error.rss: HTTP 500" in caplog.text


def test_billy_reads_the_news_himself_in_every_language(news, tmp_path):
    intents = _intents(tmp_path, _desk(news, ("world.rss", "tech.atom")))
    for language, asked in (
        ("en", "What's in the news?"),
        ("de", "Was gibt es Neues?"),
        ("fr", "Quelles sont les nouvelles ?"),
        ("nl", "Wat is het nieuws?"),
    ):
        answer = intents(asked, language)
        assert answer is not None and answer.by == "billy", (language, asked)
        storm = {"en": "and", "de": "und", "fr": "et", "nl": "en"}[language].join(("Storm ", " floods hit the coast."))
        for title in (
            storm,
            "New sonar finds lost treasure!",
            "Harbour reopens after repairs.",
        ):
            assert title in answer.words, (language, answer.words)


def test_billy_says_the_weather_and_asks_for_the_place_once(news, tmp_path):
    intents = _intents(tmp_path, _desk(news, ()))
    english = intents("What's the weather like?", "en").words
    assert all(value in english for value in RAIN_IN_UTRECHT) and "rainy" in english, english
    german = intents("Wird es heute regnen?", "de").words
    assert "regnerisch" in german and "Utrecht" in german, german
    searches = [request for request in news.requests if request["path"] == "/v1/search"]
    forecasts = [request["query"] for request in news.requests if request["path"] == "/v1/forecast"]
    assert len(searches) == 1 and searches[0]["query"]["name"] == "Utrecht"
    assert len(forecasts) == 2 and forecasts[0]["latitude"] == "52.09083" and forecasts[0]["longitude"] == "5.12222"
    assert forecasts[0]["temperature_unit"] == "celsius"


def test_a_place_given_with_its_region_or_as_coordinates(news):
    springfield = Weather("Springfield, Illinois", f"{news.url}/v1/forecast", f"{news.url}/v1/search", TIMEOUT)
    assert springfield.place("en").latitude == pytest.approx(39.80172)
    on_a_map = Weather(" 52.37, 4.89 ", f"{news.url}/v1/forecast", f"{news.url}/v1/search", TIMEOUT, True)
    assert on_a_map.today().place == ""  # no name to say: weather_here
    assert not [request for request in news.requests if request["path"] == "/v1/search"][1:]
    assert news.requests[-1]["query"]["latitude"] == "52.37" and news.requests[-1]["query"]["temperature_unit"] == (
        "fahrenheit"
    )


def test_nothing_reachable_is_said_in_words_not_waited_for(news, tmp_path, caplog):
    desk = _desk(news, ("error.rss", "page.html"))
    desk.feeds += (f"{_dead_address()}/feed.rss",)
    intents = _intents(tmp_path, desk)
    with caplog.at_level(logging.WARNING):
        assert intents("Tell me the news", "en").words.startswith("I can't reach the news right now")
    assert "HTTP 500" in caplog.text and "not a news feed" in caplog.text and "ConnectError" in caplog.text
    for broken in ("{not json", json.dumps({"current": {}}), json.dumps([1, 2])):
        news.forecast = broken
        desk.weather._place = None
        assert intents("What's the weather?", "en").words.startswith("I can't reach the weather right now")
    desk.weather = Weather("Atlantis", f"{news.url}/v1/forecast", f"{news.url}/v1/search", TIMEOUT)
    assert intents("What's the weather?", "en").words.startswith("I can't reach the weather right now")
    assert "WEATHER_LOCATION='Atlantis': no such place" in caplog.text


def test_without_a_place_the_weather_is_home_assistants_if_there_is_one(news, tmp_path):
    assert _intents(tmp_path, _desk(news, (), location="", weather_elsewhere=True))("What's the weather?", "en") is None
    lonely = _intents(tmp_path, _desk(news, (), location=""))
    assert lonely("What's the weather?", "en").words.startswith("I don't know where we live")
    assert lonely("What's in the news?", "en").words.startswith("I don't have any news feeds yet")


def test_a_model_that_calls_tools_gets_the_same_digest(news, tmp_path):
    toolbox = ToolBox(PersonaLibrary(tmp_path), False, SongLibrary(tmp_path), None)
    assert "get_news_digest" not in [schema["function"]["name"] for schema in toolbox.schemas()]
    toolbox.news = _desk(news, (), location="")
    assert "get_news_digest" not in [schema["function"]["name"] for schema in toolbox.schemas()]  # nothing to read
    toolbox.news = _desk(news, ("tech.atom",))
    outcome = toolbox.run(ToolCall("call-1", "get_news_digest", '{"category": "weather"}'))
    assert all(value in outcome.speech for value in RAIN_IN_UTRECHT)
    assert json.loads(outcome.content) == {"weather": outcome.speech}
    assert "Robot fish learns to sing." in toolbox.run(ToolCall("call-2", "get_news_digest", "{}")).speech
    with pytest.raises(ToolError, match="one of headlines, weather"):
        toolbox.run(ToolCall("call-3", "get_news_digest", '{"category": "sports"}'))


def test_the_settings_take_only_addresses_and_name_what_is_wrong():
    settings = load_settings({"NEWS_FEEDS": "https://a.example/rss, https://b.example/atom.xml"})
    assert settings.news_feeds == ("https://a.example/rss", "https://b.example/atom.xml")
    assert load_settings({}).news_feeds == () and load_settings({}).news_request_timeout_seconds == 6
    for wrong in ("file:///etc/passwd", "https://a.example/rss\nBILLY_WEB_SYSTEMCTL=/bin/sh", "feeds please"):
        with pytest.raises(ConfigError, match="NEWS_FEEDS"):
            load_settings({"NEWS_FEEDS": wrong})
    with pytest.raises(ConfigError, match="NEWS_REQUEST_TIMEOUT_SECONDS"):
        load_settings({"NEWS_REQUEST_TIMEOUT_SECONDS": "600"})


def test_a_whole_billy_asked_aloud_reads_the_weather_and_the_news_without_a_model(news, tank_factory, llm, speak):
    tank = tank_factory(
        {
            "WEATHER_LOCATION": "Utrecht",
            "OPEN_METEO_FORECAST_URL": f"{news.url}/v1/forecast",
            "OPEN_METEO_GEOCODING_URL": f"{news.url}/v1/search",
            "NEWS_FEEDS": f"{news.url}/feeds/world.rss,{news.url}/feeds/tech.atom",
        }
    )
    weather = tank.ask(speak("What is the weather today?"))
    assert weather.result.answered_by == "billy" and not weather.result.failed_stage
    assert all(value in weather.result.said for value in RAIN_IN_UTRECHT), weather.result.said
    headlines_read = tank.ask(speak("Tell me the news."))
    assert "Storm and floods hit the coast." in headlines_read.result.said, headlines_read.result.said
    assert llm.requests == []  # neither asked the model
