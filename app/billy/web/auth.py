"""Who may use the web page: one password (a salted scrypt hash on disk), sessions, CSRF tokens, a login limit.

There is no default password: until one is set (on the page, or BILLY_WEB_PASSWORD from the inventory or the
boot partition, hashed on first use) the page offers only "set the password".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD_FILE = Path("web") / "password.json"  # under the state folder: the hash, never the password

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD_CHARS = 8
SESSION_SECONDS = 7 * 24 * 3600
MAX_SESSIONS = 500  # every visit to the login page makes one: bounded, so a flood of visits cannot fill memory
LOGIN_ATTEMPTS = 5  # failures allowed per client address in LOGIN_WINDOW_SECONDS
LOGIN_WINDOW_SECONDS = 60


def hash_password(password: str) -> dict:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT, dklen=32)
    return {"scheme": "scrypt", **SCRYPT, "salt": salt.hex(), "hash": digest.hex()}


def check_password(password: str, stored: dict) -> bool:
    digest = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(stored["salt"]), n=stored["n"], r=stored["r"], p=stored["p"], dklen=32
    )
    return hmac.compare_digest(digest.hex(), stored["hash"])


class PasswordStore:
    def __init__(self, path: Path, initial: str = "") -> None:
        self.path = path
        self._initial = initial

    def _stored(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            if self._initial:  # BILLY_WEB_PASSWORD: hashed now, the plain text never stored
                self.set(self._initial)
                return json.loads(self.path.read_text())
            return None

    @property
    def is_set(self) -> bool:
        return self._stored() is not None

    def set(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_CHARS:
            raise ValueError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(hash_password(password)))
        os.chmod(partial, 0o600)
        partial.replace(self.path)

    def check(self, password: str) -> bool:
        stored = self._stored()
        return stored is not None and check_password(password, stored)


@dataclass
class Session:
    csrf: str
    expires: float
    signed_in: bool = False
    flash: list[str] = field(default_factory=list)


class Sessions:
    """In memory: a restart of the web page signs everyone out, which is fine for one fish."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires < time.time():
                del self._sessions[token]
                return None
            return session

    def new(self, signed_in: bool = False) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), expires=time.time() + SESSION_SECONDS, signed_in=signed_in)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                now = time.time()
                for old in [key for key, value in self._sessions.items() if value.expires < now]:
                    del self._sessions[old]
                anonymous = [key for key, value in self._sessions.items() if not value.signed_in]
                for old in (anonymous or list(self._sessions))[: len(self._sessions) - MAX_SESSIONS + 1]:
                    del self._sessions[old]
            self._sessions[token] = session
        return token, session

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def __len__(self) -> int:
        return len(self._sessions)

    def drop_all(self) -> None:
        with self._lock:
            self._sessions.clear()


class LoginLimiter:
    """At most LOGIN_ATTEMPTS failed logins per address per window; then refused until the window passes."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW_SECONDS) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> float:
        """Seconds until this address may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(address, deque())
            while failures and failures[0] < now - self.window:
                failures.popleft()
            return failures[0] + self.window - now if len(failures) >= self.attempts else 0.0

    def failed(self, address: str) -> None:
        with self._lock:
            self._failures.setdefault(address, deque(maxlen=self.attempts)).append(time.monotonic())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
