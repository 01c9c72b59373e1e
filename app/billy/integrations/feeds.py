"""Headlines from the owner's RSS and Atom feeds (`NEWS_FEEDS`), as the original's news digest reads them.

Each feed is fetched with a deadline for the whole download (`NEWS_REQUEST_TIMEOUT_SECONDS`, the original's
name) and a cap on its size (integrations/fetch.py), then parsed by
feedparser, which copes with both formats and most of the broken XML found in the wild. The headlines are
taken in turn from each feed, so one busy feed does not drown the others, and cleaned for speaking: no markup,
no control characters, a bounded length.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from billy.integrations.fetch import FetchError, download
from billy.settings.kinds import control_character

LOG = logging.getLogger(__name__)
MAX_FEED_BYTES = 2_000_000  # a news site's feed is tens of kilobytes; a bigger one is not a feed worth reading
MAX_TITLE_CHARS = 160  # a headline read out, not an article
TAG = re.compile(r"<[^>]*>")
SPACE_BEFORE_STOP = re.compile(r"\s+([.,!?;:])")  # left where a tag was: "lost <i>treasure</i>!"


class FeedError(FetchError):
    """A feed could not be read or is not a feed; the message names it and why."""


@dataclass(frozen=True)
class Headline:
    title: str
    source: str  # the feed's own title, else its address


def spoken_title(raw: str) -> str:
    """A title as Billy may say it: markup and entities gone, control characters and runs of spaces closed up."""
    text = html.unescape(TAG.sub(" ", raw))
    text = "".join(" " if control_character(char) else char for char in text)
    text = SPACE_BEFORE_STOP.sub(r"\1", " ".join(text.split()))
    if len(text) > MAX_TITLE_CHARS:
        text = text[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + " ..."
    return text


def read_feed(client: httpx.Client, url: str, timeout: float, max_bytes: int = MAX_FEED_BYTES) -> list[Headline]:
    """The headlines of one feed, newest first as the feed gives them; FeedError when it yields none."""
    import feedparser

    parsed = feedparser.parse(download(client, url, timeout, max_bytes))
    source = spoken_title(str(parsed.feed.get("title", ""))) or url
    headlines = [Headline(title, source) for entry in parsed.entries if (title := spoken_title(entry.get("title", "")))]
    if not headlines:
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else "no entries with a title"
        raise FeedError(f"{url}: not a news feed ({problem})")
    return headlines


def headlines(urls: Iterable[str], count: int, timeout: float, client: httpx.Client | None = None) -> list[Headline]:
    """Up to `count` headlines, one from each feed in turn, duplicates dropped. FeedError when no feed gave any
    (its message lists every failure, for the caller to log); a failing feed beside working ones is logged here."""
    client = client or httpx.Client()
    per_feed: list[list[Headline]] = []
    failures: list[str] = []
    for url in urls:
        try:
            per_feed.append(read_feed(client, url, timeout))
        except FetchError as error:
            failures.append(str(error))
    if not per_feed:
        raise FeedError("; ".join(failures) or "no feeds")
    if failures:
        LOG.warning("news: read the other feeds: %s", "; ".join(failures))
    chosen: list[Headline] = []
    seen: set[str] = set()
    for row in range(max(len(feed) for feed in per_feed)):
        for feed in per_feed:
            if row < len(feed) and feed[row].title.lower() not in seen and len(chosen) < count:
                seen.add(feed[row].title.lower())
                chosen.append(feed[row])
    return chosen
