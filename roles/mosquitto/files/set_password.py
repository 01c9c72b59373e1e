"""Make mosquitto's password file hold one account, hashed as mosquitto_passwd does ($7$: PBKDF2-SHA512).

Reads "user\npassword" on stdin, so the password is never on a command line or in a file on the Pi. Prints
"changed" when it rewrote the file, "ok" when the file already holds that account with that password (the
salted hash is checked, not compared), so Ansible stays idempotent without keeping the password around.
"""

import base64
import grp
import hashlib
import hmac
import os
import sys

ITERATIONS = 101  # mosquitto_passwd's default for $7$
path = sys.argv[1]
user, password = sys.stdin.read().split("\n", 1)
password = password.rstrip("\n")


def matches(line: str) -> bool:
    name, _, hashed = line.strip().partition(":")
    parts = hashed.split("$")
    if name != user or len(parts) != 5 or parts[1] != "7":
        return False
    salt, expected = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    actual = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), len(expected))
    return hmac.compare_digest(actual, expected)


try:
    with open(path) as existing:
        lines = [line for line in existing if line.strip()]
except FileNotFoundError:
    lines = []
if len(lines) == 1 and matches(lines[0]):
    print("ok")
    sys.exit(0)
salt = os.urandom(12)
digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS, 64)
entry = f"{user}:$7${ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}\n"
temporary = path + ".new"
descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
with os.fdopen(descriptor, "w") as out:
    out.write(entry)
os.chown(temporary, 0, grp.getgrnam("mosquitto").gr_gid)
os.chmod(temporary, 0o640)
os.replace(temporary, path)
print("changed")
