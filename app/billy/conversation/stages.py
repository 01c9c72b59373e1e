"""A stage's clients (primary, then the fallback if configured) and the one rule for falling back.

The fallback is tried only while the primary has produced nothing: once a transcript, a word of the reply or
a sample of audio has gone on, a second answer would repeat or contradict the first, so the error stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from billy.services.client import ServiceError

LOG = logging.getLogger(__name__)


@dataclass
class Stage:
    name: str
    clients: list

    @property
    def primary(self):
        if not self.clients:
            raise ServiceError(self.name, f"no {self.name.upper()} configured")
        return self.clients[0]

    def stream(self, call: Callable[[Any], Iterator]) -> Iterator:
        """What `call(client)` yields, from the first client that answers; no fallback once output started."""
        last: ServiceError | None = None
        for client in self.clients:
            started = False
            try:
                for item in call(client):
                    started = True
                    yield item
                return
            except ServiceError as error:
                LOG.warning("%s", error)
                if started:
                    raise
                last = error
        raise last or ServiceError(self.name, f"no {self.name.upper()} configured")

    def ask(self, call: Callable[[Any], Any]) -> Any:
        """`call(client)`'s answer, from the first client that answers."""
        return next(self.stream(lambda client: iter([call(client)])))


def stage(name: str, primary, fallback=None) -> Stage:
    return Stage(name, [client for client in (primary, fallback) if client is not None])
