"""Copy the CA certificates the host trusts beyond Debian's own into a root filesystem.

Where the host reaches PyPI through a TLS-inspecting proxy, only the host trusts that proxy's CA; a machine
under test needs it too. Usage: host-cas.py ROOT. Writes ROOT/usr/local/share/ca-certificates/host-N.crt,
which `update-ca-certificates` (run when the ca-certificates package installs) adds to the machine's bundle.
"""

import re
import subprocess
import sys
from pathlib import Path

PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def pems(text: str) -> set[str]:
    return {"".join(match.split()) for match in PEM.findall(text)}


root = Path(sys.argv[1])
bundle = Path("/etc/ssl/certs/ca-certificates.crt")
if not bundle.is_file():
    sys.exit(0)
debian = set()
for path in Path("/usr/share/ca-certificates").rglob("*.crt"):
    debian |= pems(path.read_text(errors="replace"))
extra = [match for match in PEM.findall(bundle.read_text(errors="replace")) if "".join(match.split()) not in debian]
target = root / "usr/local/share/ca-certificates"
target.mkdir(parents=True, exist_ok=True)
for number, cert in enumerate(extra):
    (target / f"host-{number}.crt").write_text(cert + "\n")
if extra and (root / "usr/sbin/update-ca-certificates").exists():
    subprocess.run(["chroot", str(root), "update-ca-certificates"], check=True, capture_output=True)
print(f"{len(extra)} host CA certificate(s) copied into {root}")
