"""What a setting's value may be: each kind reads the text of an env file into a value and says what it allows.

A kind also tells the Ansible role its argument type (`role_type`), the web page its choices, and whether the
value can name a file or a program (`names_path_or_program`): such a setting is never editable from a browser.
Every kind refuses control characters before anything else, so no value can ever become a line of its own in
an env file, whichever file, form or message it came from.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from billy.languages import language_code

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")
# A name in a catalogue or on a model server: letters, digits and . _ - + : (qwen2.5:1.5b, en_US-joe-medium).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+:-]*")
# A host name, an IPv4 address or a bracketed IPv6 address, with no scheme and no path.
_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")
_COUNTRY = re.compile(r"[A-Z]{2}")


class ConfigError(ValueError):
    """A setting has a value Billy cannot use; the message names the setting and what it allows."""


def control_character(raw: str) -> str | None:
    """The first control or line-separating character in `raw` (newline, CR, NUL, tab, U+2028 ...), or None."""
    for char in raw:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return char
    return None


def refuse_control_characters(name: str, raw: str) -> None:
    char = control_character(raw)
    if char is not None:
        raise ConfigError(
            f"{name} contains a control character ({unicodedata.name(char, f'U+{ord(char):04X}')}): "
            "a setting is one line of plain text"
        )


@dataclass(frozen=True)
class Kind:
    """Any text; the base of every kind."""

    role_type: ClassVar[str] = "str"  # the type of the role's variable (meta/argument_specs.yml)
    python_type: ClassVar[type] = str
    names_path_or_program: ClassVar[bool] = False

    def read(self, name: str, raw: str) -> Any:
        """The value of `name` from its text, or ConfigError naming it and what it allows."""
        refuse_control_characters(name, raw)
        return self.parse(name, raw.strip())

    def parse(self, name: str, text: str) -> Any:
        return text

    def allowed(self) -> str:
        return "any text on one line"

    def choices(self) -> tuple[str, ...]:
        return ()

    def refuse(self, name: str, text: str, problem: str = "is not valid") -> ConfigError:
        return ConfigError(f"{name}={text!r} {problem}: expected {self.allowed()}")


@dataclass(frozen=True)
class Text(Kind):
    pass


@dataclass(frozen=True)
class Name(Kind):
    """A model's or a voice's name: never a path."""

    def parse(self, name: str, text: str) -> str:
        if text and not _NAME.fullmatch(text):
            raise self.refuse(name, text)
        return text

    def allowed(self) -> str:
        return "a name of letters, digits and . _ - + : (no spaces, no path)"


@dataclass(frozen=True)
class Host(Kind):
    def parse(self, name: str, text: str) -> str:
        if text and not _HOST.fullmatch(text):
            raise self.refuse(name, text)
        return text

    def allowed(self) -> str:
        return "a host name or address such as homeassistant.local or 192.168.1.50, without :// or a path"


@dataclass(frozen=True)
class Country(Kind):
    """A country as two letters (ISO 3166-1), or empty: the radio's regulatory domain, which channels it uses."""

    def parse(self, name: str, text: str) -> str:
        if text and not _COUNTRY.fullmatch(text.upper()):
            raise self.refuse(name, text)
        return text.upper()

    def allowed(self) -> str:
        return "a two-letter country code such as GB, DE, NL or US, or empty"


@dataclass(frozen=True)
class Choice(Kind):
    values: tuple[str, ...] = ()
    optional: bool = False  # empty means "not set"

    def parse(self, name: str, text: str) -> str:
        value = text.lower()
        if value not in self.choices():
            raise ConfigError(f"{name}={text!r} is not valid: allowed values are {', '.join(self.values)}")
        return value

    def allowed(self) -> str:
        return ", ".join(self.values) + (" or empty" if self.optional else "")

    def choices(self) -> tuple[str, ...]:
        return ("", *self.values) if self.optional else self.values


@dataclass(frozen=True)
class Flag(Kind):
    role_type: ClassVar[str] = "bool"
    python_type: ClassVar[type] = bool

    def parse(self, name: str, text: str) -> bool:
        value = text.lower()
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise ConfigError(
            f"{name}={text!r} is not valid: allowed values are {', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS[:-1])}"
        )

    def allowed(self) -> str:
        return "true or false"

    def choices(self) -> tuple[str, ...]:
        return ("true", "false")


@dataclass(frozen=True)
class Decimal(Kind):
    """A decimal number within [low, high]; `Whole` is a whole one. `optional`: empty means "not set" (None)."""

    low: float | None = None
    high: float | None = None
    optional: bool = False
    role_type: ClassVar[str] = "float"
    python_type: ClassVar[type] = float
    noun: ClassVar[str] = "a number"

    def parse(self, name: str, text: str) -> Any:
        if not text and self.optional:
            return None
        try:
            value = self.python_type(text)
        except ValueError:
            raise self.refuse(name, text) from None
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise self.refuse(name, text, "is out of range")
        return value

    def allowed(self) -> str:
        if self.low is not None and self.high is not None:
            described = f"{self.noun} from {self.low:g} to {self.high:g}"
        elif self.low is not None:
            described = f"{self.noun} of at least {self.low:g}"
        else:
            described = self.noun
        return described + (", or empty" if self.optional else "")


@dataclass(frozen=True)
class Whole(Decimal):
    role_type: ClassVar[str] = "int"
    python_type: ClassVar[type] = int
    noun: ClassVar[str] = "a whole number"


@dataclass(frozen=True)
class GainDb(Decimal):
    """The original's MIC_GAIN: "max" (the sound card's capture level as it is set: no gain in software) or a
    software gain in decibels."""

    role_type: ClassVar[str] = "str"

    def parse(self, name: str, text: str) -> float:
        if text.lower() in ("", "max"):
            return 0.0
        return super().parse(name, text.removesuffix("dB").removesuffix("db").strip())

    def allowed(self) -> str:
        return f"max (no software gain) or decibels from {self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class Url(Kind):
    """An http(s) address; `base`: an API's base, whose trailing slash is dropped (paths are added to it)."""

    base: bool = True

    def parse(self, name: str, text: str) -> str:
        value = text.rstrip("/") if self.base else text
        if value and (not value.startswith(("http://", "https://")) or " " in value):
            raise self.refuse(name, text)
        return value

    def allowed(self) -> str:
        return "a URL starting with http:// or https://, or empty"


@dataclass(frozen=True)
class UrlList(Kind):
    """http(s) addresses separated by commas or spaces (no address holds either unencoded)."""

    python_type: ClassVar[type] = tuple

    def parse(self, name: str, text: str) -> tuple[str, ...]:
        urls = tuple(filter(None, (part.strip() for part in text.replace(",", " ").split(" "))))
        for url in urls:
            if not url.startswith(("http://", "https://")) or len(url) < len("http://x"):
                raise self.refuse(name, text, f"has {url!r}, not an address")
        return urls

    def allowed(self) -> str:
        return "addresses starting with http:// or https://, separated by commas, or empty"


@dataclass(frozen=True)
class WyomingUri(Kind):
    def parse(self, name: str, text: str) -> str:
        if text and not (text.startswith("tcp://") and text.rsplit(":", 1)[-1].isdigit()):
            raise self.refuse(name, text)
        return text

    def allowed(self) -> str:
        return "tcp://HOST:PORT (a Wyoming server), or empty"


@dataclass(frozen=True)
class VoiceMap(Kind):
    """`de=de_DE-thorsten-medium,fr=fr_FR-siwis-medium` -> {"de": ..., "fr": ...}."""

    python_type: ClassVar[type] = dict

    def parse(self, name: str, text: str) -> dict[str, str]:
        voices = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            code, _, voice = item.partition("=")
            if not code.strip() or not _NAME.fullmatch(voice.strip()):
                raise self.refuse(name, text)
            voices[language_code(code)] = voice.strip()
        return voices

    def allowed(self) -> str:
        return "pairs such as de=de_DE-thorsten-medium,fr=fr_FR-siwis-medium, or empty"


@dataclass(frozen=True)
class FilePath(Kind):
    """A file or folder on the Pi; `optional`: empty means "not set" (None)."""

    optional: bool = False
    python_type: ClassVar[type] = Path
    names_path_or_program: ClassVar[bool] = True

    def parse(self, name: str, text: str) -> Path | None:
        if not text:
            if self.optional:
                return None
            raise self.refuse(name, text)
        return Path(text)

    def allowed(self) -> str:
        return "a path on the Pi" + (", or empty" if self.optional else "")


@dataclass(frozen=True)
class Command(Kind):
    """A command line Billy runs."""

    names_path_or_program: ClassVar[bool] = True

    def parse(self, name: str, text: str) -> str:
        try:
            words = shlex.split(text)
        except ValueError:
            words = []
        if not words:
            raise self.refuse(name, text)
        return text

    def allowed(self) -> str:
        return "a command line"


@dataclass(frozen=True)
class NameOrFile(Kind):
    """One of `names` (bundled with Billy), or the path of the owner's own file ending in one of `suffixes`."""

    names: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    names_path_or_program: ClassVar[bool] = True

    def parse(self, name: str, text: str) -> str:
        if text in self.names or (text.endswith(self.suffixes) and len(text) > max(map(len, self.suffixes))):
            return text
        raise self.refuse(name, text)

    def allowed(self) -> str:
        return f"{', '.join(self.names)}, or the path of your own {' or '.join(self.suffixes)} model file"

    def choices(self) -> tuple[str, ...]:
        return self.names
