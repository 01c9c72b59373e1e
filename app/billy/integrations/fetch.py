"""Fetching from a source on the internet that Billy does not control (news feeds, the weather), bounded.

A deadline for the whole download, not only for each read (httpx's timeout is per read: a server that trickles
a byte a second would pass it for ever), and a cap on the size: a source that is slow, huge or broken costs
Billy at most `timeout` seconds and `max_bytes` of memory, and says why.
"""

from __future__ import annotations

import time

import httpx


class FetchError(Exception):
    """The source could not be read; the message names its address and why."""


def download(client: httpx.Client, url: str, timeout: float, max_bytes: int) -> bytes:
    """The body of `url`; FetchError when it fails, is bigger than `max_bytes` or takes over `timeout` seconds."""
    deadline = time.monotonic() + timeout
    body = bytearray()
    try:
        with client.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise FetchError(f"{url}: HTTP {response.status_code}")
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"{url}: bigger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: not complete after {timeout:g} s")
    except httpx.HTTPError as error:
        raise FetchError(f"{url}: {type(error).__name__} {error}".rstrip()) from None
    return bytes(body)
