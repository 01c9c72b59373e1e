"""The setup network's name server: every name is Billy, so a phone's connectivity check lands on his page.

Phones decide "this network has a sign-in page" when their check address (connectivitycheck.gstatic.com,
captive.apple.com ...) answers with something else than expected; here every A question is answered with the
access point's address. Other questions get an empty answer, anything malformed is dropped, never answered.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import threading

LOG = logging.getLogger(__name__)
TYPE_A, CLASS_IN = 1, 1
TTL_SECONDS = 10  # short: a phone that joined the home network must not keep Billy's answers


def question_end(packet: bytes) -> int | None:
    """Where the first question (name, type, class) ends, or None when it is not a well-formed one."""
    at = 12
    while at < len(packet):
        length = packet[at]
        if length == 0:
            end = at + 5
            return end if end <= len(packet) else None
        if length > 63:  # a compression pointer or a reserved label type: not in a question
            return None
        at += 1 + length
    return None


def answer(packet: bytes, address: str) -> bytes | None:
    """The reply to one DNS query, or None to drop it."""
    if len(packet) < 12:
        return None
    ident, flags, questions = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000 or (flags >> 11) & 0xF or questions != 1:  # a reply, not a plain query, or not one question
        return None
    end = question_end(packet)
    if end is None:
        return None
    qtype, qclass = struct.unpack("!HH", packet[end - 4 : end])
    records = b""
    if qtype == TYPE_A and qclass == CLASS_IN:
        records = struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL_SECONDS, 4)
        records += ipaddress.IPv4Address(address).packed
    reply_flags = 0x8400 | (flags & 0x0100) | 0x0080  # a reply, authoritative, recursion as asked and available
    header = struct.pack("!HHHHHH", ident, reply_flags, 1, 1 if records else 0, 0, 0)
    return header + packet[12:end] + records


class CaptiveDns:
    """Answers on (address, port) until closed."""

    def __init__(self, address: str, port: int = 53) -> None:
        self.address = address
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((address, port))
        self.port = self.socket.getsockname()[1]
        self.socket.settimeout(0.5)  # how soon close() is noticed: a blocked read is not woken by closing
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="captive-dns", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                packet, sender = self.socket.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = answer(packet, self.address)
            if reply is not None:
                try:
                    self.socket.sendto(reply, sender)
                except OSError as error:
                    LOG.debug("captive DNS could not answer %s: %s", sender, error)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self.socket.close()
