"""`make image-test`: boot the built image in qemu-system-aarch64 and use it as a person would.

A copy of the image (grown by 1 GiB, as a card is bigger than the image) gets, on its FAT partition, what a
person puts there: Imager's cloud-init customisation (a user with an SSH key) and a `billy.env` with a broker
(a mosquitto on this machine, with a password), the file-backed sound device and mock GPIO (qemu has neither
a sound card nor GPIO). Then, booted with the kernel and initramfs from the image and a serial console log:
Billy's availability `online` on the broker (timed from power-on), systemd in multi-user with no failed unit,
the units active, the health endpoints answering (the web page through a forwarded port; STT and TTS, which
listen on 127.0.0.1, on the fish), the secret gone from the FAT partition, a spoken question answered out loud,
the root grown, the motor pins still held low in config.txt after the kernel hook rewrote it,
`ansible-playbook ansible/site.yml` against the running image reporting changed=0 (an image of another stage than
this repo makes is refused before booting), and Billy's setup network
with three simulated radios (wifi_scenario.py: a phone joins Billy-Setup, a wrong then the right password, Billy
on the home network).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from mosquitto import Collector, Mosquitto, free_port  # noqa: E402

SECTOR = 512
SECRET = "image-test-secret-81f2"


def stage_changed(manifest: dict, work: Path) -> str | None:
    """Why this repo's update run could not report changed=0 on the image, if it could not: the stage it makes
    now (the playbook, roles and app, bundled as `make image` bundles them) is not the one the image was built
    from. Said before booting, not after the hour the rest takes."""
    stage = work / "stage-now"
    subprocess.run(["sh", str(REPO / "image" / "build" / "bundle-stage.sh"), str(stage)], check=True)
    digest = subprocess.run(
        ["sh", str(REPO / "image" / "build" / "stage-digest.sh"), str(stage)], capture_output=True, text=True
    )
    shutil.rmtree(stage)
    if digest.returncode != 0:
        return f"stage-digest.sh failed: {digest.stderr.strip()}"
    now, built = digest.stdout.strip(), manifest.get("stage_digest")
    if now == built:
        return None
    return (
        f"the image was built from another stage ({str(built)[:8]}) than this repo makes now ({now[:8]}): its"
        " update run would install the difference and report changes; run `make image` first"
    )


def fat(image: Path, offset: int) -> str:
    return f"{image}@@{offset}"


def mtools(*command: str) -> str:
    environ = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    return subprocess.run(command, check=True, capture_output=True, text=True, env=environ).stdout


def boot_offset(image: Path) -> int:
    table = json.loads(subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, check=True).stdout)
    return table["partitiontable"]["partitions"][0]["start"] * SECTOR


def put(image: Path, offset: int, name: str, text: str) -> None:
    scratch = image.parent / name
    scratch.write_text(text)
    mtools("mcopy", "-o", "-i", fat(image, offset), str(scratch), f"::/{name}")


class Machine:
    """The booted image: qemu with user networking, SSH and the web page forwarded to 127.0.0.1."""

    def __init__(self, disk: Path, kernel: Path, initrd: Path, root: str, console: Path) -> None:
        # SSH and the web page, as a laptop on the same network reaches them (STT and TTS listen on 127.0.0.1).
        self.ssh_port, self.web_port = free_port(), free_port()
        forwards = f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22,hostfwd=tcp:127.0.0.1:{self.web_port}-:80"
        command = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-accel", "tcg,thread=multi"]
        command += ["-smp", "2", "-m", "2G", "-nographic", "-kernel", str(kernel), "-initrd", str(initrd)]
        command += ["-append", f"console=ttyAMA0 root={root} rootwait fsck.repair=yes"]
        command += ["-drive", f"file={disk},format=raw,if=virtio", "-device", "virtio-rng-pci"]
        command += ["-netdev", f"user,id=net,{forwards}", "-device", "virtio-net-pci,netdev=net"]
        self.console = console
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=console.open("w"), stderr=subprocess.STDOUT
        )

    def still_running(self, what: str) -> None:
        if (code := self.process.poll()) is not None:
            raise RuntimeError(f"qemu exited ({code}) while waiting for {what}:\n{self.console_tail()}")

    def console_tail(self, lines: int = 40) -> str:
        text = self.console.read_text(errors="replace") if self.console.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(the console log is empty)"

    def ssh(self, key: Path, user: str, command: str, check: bool = True) -> subprocess.CompletedProcess:
        options = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10"]
        options += ["-o", "LogLevel=ERROR", "-i", str(key), "-p", str(self.ssh_port)]
        return subprocess.run(
            ["ssh", *options, f"{user}@127.0.0.1", command], capture_output=True, text=True, check=check
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wait(what: str, check, timeout: float, machine: Machine, every: float = 5):
    """Poll `check` until it answers; at once a failure with the console's end if qemu is gone meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        machine.still_running(what)
        result = check()
        if result:
            return result
        time.sleep(every)  # polling a booting machine over SSH: no event to wait on
    raise TimeoutError(f"waited {timeout:.0f} s for {what}\n{machine.console_tail()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-dir", default=str(REPO / "out" / "image"))
    parser.add_argument("--work", default=str(REPO / ".cache" / "image" / "test"))
    parser.add_argument("--timeout", type=float, default=3600, help="longest wait for one step, in seconds")
    parser.add_argument(
        "--idle-seconds", type=float, default=300, help="how long to count the card's writes while Billy idles"
    )
    parser.add_argument("--no-wifi", action="store_true", help="leave out the Wi-Fi setup with simulated radios")
    args = parser.parse_args()
    manifest_path = next(Path(args.image_dir).glob("*.manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if (stale := stage_changed(manifest, work)) is not None:
        print(f"image-test: {stale}", file=sys.stderr)
        return 2

    disk = work / "disk.img"
    subprocess.run(
        ["cp", "--sparse=always", str(manifest_path.parent / manifest["image"]["file"]), str(disk)], check=True
    )
    with disk.open("r+b") as stream:
        stream.truncate(disk.stat().st_size + (1 << 30))
    offset = boot_offset(disk)
    listing = mtools("mdir", "-b", "-i", fat(disk, offset), "::/")
    kernel_name = sorted(re.findall(r"::/(vmlinuz-\S+)", listing))[-1]
    initrd_name = sorted(re.findall(r"::/(initrd\.img-\S+)", listing))[-1]
    for name in (kernel_name, initrd_name):
        mtools("mcopy", "-o", "-i", fat(disk, offset), f"::/{name}", str(work / name))

    key = work / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    user = "owner"
    # What Imager's customisation writes for cloud-init (cloudinit-rpi): a user with a key, SSH on.
    put(disk, offset, "meta-data", "dsmode: local\ninstance_id: billy-image-test\n")
    user_data = {
        "hostname": "billy",
        "users": [
            {
                "name": user,
                "groups": "sudo",
                "shell": "/bin/bash",
                "lock_passwd": True,
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "ssh_authorized_keys": [(work / "id_ed25519.pub").read_text().strip()],
            }
        ],
        "ssh_pwauth": False,
        # The rest of Imager's customisation: each is a cloud-init module that must leave no failed unit (the
        # keyboard one restarts console-setup.service, which the image carries for it).
        "timezone": "Europe/Amsterdam",
        "keyboard": {"model": "pc105", "layout": "de"},
        "locale": "en_GB.UTF-8",
    }
    put(disk, offset, "user-data", "#cloud-config\n" + json.dumps(user_data, indent=2) + "\n")

    broker = Mosquitto(work, users={"billy": SECRET})
    broker.start()
    # qemu's user network reaches this machine's 127.0.0.1 as 10.0.2.2.
    billy_env = (
        f"MQTT_HOST=10.0.2.2\nMQTT_PORT={broker.port}\nMQTT_USERNAME=billy\nMQTT_PASSWORD={SECRET}\n"
        "BILLY_AUDIO=file\nBILLY_GPIO=mock\n"
        # qemu without KVM runs the fish's code about 20 times slower than a Pi: a turn's stages need longer.
        "STAGE_TIMEOUT_SECONDS=600\nLLM_TIMEOUT_SECONDS=600\n"
    )
    put(disk, offset, "billy.env", billy_env)
    watcher = Collector(broker.port, ["billy/#"], "billy", SECRET)

    figures: dict[str, float] = {}
    root = manifest["partitions"]["root"]
    machine = Machine(disk, work / kernel_name, work / initrd_name, root, work / "console.log")
    try:
        wait("Billy online on MQTT", lambda: "online" in watcher.payloads("billy/availability"), args.timeout, machine)
        figures["power_on_to_online_s"] = round(time.monotonic() - machine.started, 1)
        print(f"Billy online {figures['power_on_to_online_s']} s after power-on", flush=True)
        wait("SSH", lambda: machine.ssh(key, user, "true", check=False).returncode == 0, args.timeout, machine)
        state = wait(
            "the end of start-up",
            lambda: (
                (s := machine.ssh(key, user, "systemctl is-system-running", check=False).stdout.strip())
                not in ("starting", "initializing", "")
                and s
            ),
            args.timeout,
            machine,
        )
        failed = machine.ssh(key, user, "systemctl --failed --no-legend --plain").stdout.strip()
        # Told at the end: the figures that follow are worth having even from a degraded system.
        problems = [] if state == "running" and not failed else [f"system {state}, failed units: {failed}"]
        imager = "readlink /etc/localtime; cat /etc/default/keyboard /etc/default/locale"
        customised = machine.ssh(key, user, imager).stdout
        for applied in ("Europe/Amsterdam", 'XKBLAYOUT="de"', "LANG=en_GB.UTF-8"):
            if applied not in customised:
                problems.append(f"Imager's {applied} was not applied: {customised}")
        for unit in ("billy-stt", "billy-tts", "billy", "billy-web", "llama-cpp"):
            machine.ssh(key, user, f"systemctl is-active --quiet {unit}")
        figures["brain"] = brain_served(machine, key, user)
        print(f"llama.cpp: {figures['brain']}", flush=True)
        for port in (5003, 5002):  # STT and TTS serve Billy only: asked on the fish itself
            machine.ssh(key, user, http_on_fish(f"http://127.0.0.1:{port}/api/health"))
        web = f"http://127.0.0.1:{machine.web_port}/api/health"
        subprocess.run(["curl", "-sf", web], check=True, capture_output=True)
        applied = machine.ssh(key, user, "ls /boot/firmware; cat /boot/firmware/billy.env.applied").stdout
        assert "billy.env\n" not in applied and SECRET not in applied, applied
        journal = machine.ssh(key, user, "sudo journalctl -b -u billy-boot-settings -o cat").stdout
        assert SECRET not in journal and "MQTT_PASSWORD=***" in journal, journal
        grown = machine.ssh(key, user, "df --output=size -B1M / | tail -1").stdout.strip()
        print(f"root filesystem: {grown} MiB", flush=True)

        pins_survive_a_kernel_update(machine, key, user)
        figures["idle_mb_per_hour"] = written_per_hour(machine, key, user, args.idle_seconds)
        before = sectors_written(machine, key, user)
        answered, device_bytes = ask(machine, key, user, args.timeout)
        figures["question_to_reply_s"] = answered
        figures["one_turn_mb"] = round((sectors_written(machine, key, user) - before) * 512 / 1e6, 2)
        figures["one_turn_mb_without_sound_files"] = round(figures["one_turn_mb"] - device_bytes / 1e6, 2)
        print(
            f"the card: {figures['idle_mb_per_hour']} MB an idle hour, {figures['one_turn_mb']} MB a turn "
            f"({figures['one_turn_mb_without_sound_files']} MB without the file-backed sound device's own files)"
        )
        figures["idle_mb_per_hour_journal_on_card"] = with_journal_on_card(machine, key, user, args.idle_seconds)
        print(f"the card with the journal on it (Debian's default): {figures['idle_mb_per_hour_journal_on_card']} MB")
        figures["changed"] = update_run(machine, key, user, work)
        assert figures["changed"] == 0, f"the update run changed {figures['changed']} task(s)"
        if not args.no_wifi:
            figures["wifi_setup"] = wifi_setup(machine, key, user, args.timeout, work)
            problems += wifi_problems(figures["wifi_setup"])
        assert not problems, "\n".join(problems)
    finally:
        machine.stop()
        watcher.close()
        broker.stop()
    listing = mtools("mdir", "-b", "-i", fat(disk, offset), "::/")
    assert "billy.env\n" not in listing.replace("billy.env.", ""), listing
    print(json.dumps(figures))
    (work / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


# The image has no curl: HTTP on the fish with its own python3 (a JSON body makes it a POST; the reply to stdout).
ON_FISH_HTTP = (
    "python3 -c 'import sys, urllib.request as u; r = u.urlopen(u.Request(sys.argv[1], "
    'data=sys.argv[2].encode() or None, headers={"content-type": "application/json"}), timeout=120); '
    "sys.stdout.buffer.write(r.read())'"
)


def http_on_fish(url: str, body: str = "") -> str:
    return f"{ON_FISH_HTTP} {shlex.quote(url)} {shlex.quote(body)}"


def brain_served(machine: Machine, key: Path, user: str) -> str:
    """The launcher's word on the brain it serves: the first of the image's brains this machine's memory holds
    (qemu's 2 GiB: a Pi 4 with 2 GiB), and why."""
    total_mib = int(machine.ssh(key, user, "grep MemTotal /proc/meminfo").stdout.split()[1]) // 1024
    journal = "sudo journalctl -b -u llama-cpp -o cat | grep -m1 'serving .*: the '"
    said = wait("the LLM launcher's choice", lambda: machine.ssh(key, user, journal, check=False).stdout, 120, machine)
    assert f"fits {total_mib} MiB" in said or f"; {total_mib} MiB is less" in said, (total_mib, said)
    # The unit lifts the lock limit, which a booted system's own init can: the brain stays in memory once read.
    serving = "sudo journalctl -b -u llama-cpp -o cat | grep -m1 'serving .* as '"
    loaded = wait("the LLM server's start", lambda: machine.ssh(key, user, serving, check=False).stdout, 600, machine)
    assert loaded.strip().endswith(", locked in memory"), loaded
    return said.strip()


def sectors_written(machine: Machine, key: Path, user: str) -> int:
    """The disk's 512-byte sectors written since boot (the block layer's counter: what an SD card would take)."""
    return int(machine.ssh(key, user, "cat /sys/block/vda/stat").stdout.split()[6])


def written_per_hour(machine: Machine, key: Path, user: str, seconds: float) -> float:
    """MB written per hour while nobody talks to Billy, from `seconds` of it (the page cache flushed at both ends,
    so writes held back are counted where they were made)."""
    machine.ssh(key, user, "sync")
    start, started, writers = sectors_written(machine, key, user), time.monotonic(), written_by(machine, key, user)
    time.sleep(seconds)  # the span measured, not a wait for an event
    machine.ssh(key, user, "sync")
    written = sectors_written(machine, key, user) - start
    after = written_by(machine, key, user)
    most = sorted(((after[name] - writers.get(name, 0), name) for name in after), reverse=True)[:6]
    print("written while idle, by program: " + ", ".join(f"{name} {b / 1e3:.0f} kB" for b, name in most if b > 0))
    return round(written * 512 / 1e6 * 3600 / (time.monotonic() - started), 2)


def written_by(machine: Machine, key: Path, user: str) -> dict[str, int]:
    """Bytes each running program has sent to the block layer since it started (/proc/<pid>/io), by name."""
    listing = machine.ssh(
        key,
        user,
        "sudo sh -c 'for p in /proc/[0-9]*; do echo $(cat $p/comm) $(grep ^write_bytes $p/io); done' 2>/dev/null",
        check=False,
    ).stdout
    totals: dict[str, int] = {}
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            totals[parts[0]] = totals.get(parts[0], 0) + int(parts[2])
    return totals


def with_journal_on_card(machine: Machine, key: Path, user: str, seconds: float) -> float:
    """The same idle measure with the journal moved to the card, as Debian keeps it: the figure the image's
    in-memory journal is compared with. Put back afterwards."""
    drop_in = "/etc/systemd/journald.conf.d/zz-measure.conf"
    machine.ssh(key, user, f"printf '[Journal]\\nStorage=persistent\\n' | sudo tee {drop_in} >/dev/null && "
                "sudo systemctl restart systemd-journald && sudo journalctl --flush")  # fmt: skip
    try:
        return written_per_hour(machine, key, user, seconds)
    finally:
        machine.ssh(key, user, f"sudo rm -f {drop_in} && sudo systemctl restart systemd-journald")


def ask(machine: Machine, key: Path, user: str, timeout: float) -> tuple[float, int]:
    """A spoken question (made by the image's own TTS) into the file-backed microphone; the reply's text and sound.

    Returns the seconds to the reply and the bytes of the sound device's own files (the question put in, the reply
    and its record taken out): a Pi's sound card writes none of them, so they are not Billy's writes.
    """
    audio = "/var/lib/billy/audio"
    question = json.dumps({"input": "What is your name?", "response_format": "wav"})
    speak = (
        f"{http_on_fish('http://127.0.0.1:5002/v1/audio/speech', question)} > /tmp/question.wav && "
        f"sudo rm -f {audio}/outbox/* && "
        f"sudo install -o billy -g billy -m 0640 /tmp/question.wav {audio}/inbox/question.wav"
    )
    machine.ssh(key, user, speak)
    asked = time.monotonic()
    reply = wait(
        "Billy's reply",
        lambda: machine.ssh(key, user, f"sudo sh -c 'cat {audio}/outbox/*.json' 2>/dev/null", check=False).stdout,
        timeout,
        machine,
    )
    took = round(time.monotonic() - asked, 1)
    said = json.loads(reply)
    print(f"heard {said.get('heard')!r}, said {said.get('said')!r} in {took} s", flush=True)
    if not ("name" in said["heard"].lower() and said["said"]):
        journal = machine.ssh(key, user, "sudo journalctl -b -u billy -u billy-stt -n 60 -o cat", check=False).stdout
        raise AssertionError(f"{said}; the journal of billy and billy-stt:\n{journal}")
    sizes = machine.ssh(key, user, f"sudo sh -c 'stat -c %s {audio}/outbox/*.wav'").stdout.split()
    assert sizes and int(sizes[0]) > 44, sizes
    device = machine.ssh(key, user, f"sudo sh -c 'stat -c %s {audio}/outbox/* /tmp/question.wav'").stdout.split()
    return took, sum(int(size) for size in device)


def pins_survive_a_kernel_update(machine: Machine, key: Path, user: str) -> None:
    """Debian's firmware hook writes config.txt anew at each kernel update: the motor pins must stay held low."""
    line = "gpio=17,22,27=op,dl"
    hook = "sudo env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware $(uname -r) >/dev/null"
    config = machine.ssh(key, user, f"{hook} && cat /boot/firmware/config.txt").stdout
    assert line in config.splitlines(), config
    print(f"config.txt after the kernel hook still holds {line}", flush=True)


def wifi_setup(machine: Machine, key: Path, user: str, timeout: float, work: Path) -> dict:
    """wifi_scenario.py run as root on the fish; its figures (the last line it prints)."""
    script = base64.b64encode((Path(__file__).parent / "wifi_scenario.py").read_bytes()).decode()
    run = machine.ssh(key, user, f"echo {script} | base64 -d | sudo python3 - {int(timeout)}", check=False)
    (work / "wifi.log").write_text(run.stdout + run.stderr)
    lines = run.stdout.strip().splitlines()
    found = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"ok": False, "error": run.stderr}
    print(f"Wi-Fi setup: {json.dumps(found)}", flush=True)
    return found


def wifi_problems(found: dict) -> list[str]:
    """What the Wi-Fi run shows that it should not (an empty list when the setup network did its job)."""
    expected = {
        "ok": True,
        "web_page_while_open": "inactive",
        "dns_answer": "192.168.4.1",
        "connectivity_check": "302 http://192.168.4.1/",
        "page_lists_home": True,
        "wrong_reply": True,
        "page_says_why": True,
        "setup_unit_after": "inactive",
        "billy_interface_type": "managed",
        "web_page_after": "active",
        "stored_mode": "0o600",
        "password_in_file": False,
    }
    problems = [
        f"Wi-Fi {name}: {found.get(name)!r}, expected {value!r}"
        for name, value in expected.items()
        if found.get(name) != value
    ]
    offer = found.get("dhcp_offer") or {}
    if not (
        offer.get("router") == offer.get("dns") == "192.168.4.1" and offer.get("captive_uri") == "http://192.168.4.1/"
    ):
        problems.append(f"Wi-Fi DHCP offer: {offer}")
    if (found.get("joined") or {}).get("ssid") != "HomeNet" or (found.get("billy_wpa") or {}).get("ssid") != "HomeNet":
        problems.append(f"Wi-Fi join: {found.get('joined')} {found.get('billy_wpa')}")
    if found.get("known_network_back_through") != "wlan0":
        problems.append(f"Wi-Fi known network back: {found.get('known_network_back_through')!r}")
    if "wlan0" not in found.get("default_route", ""):
        problems.append(f"Wi-Fi default route: {found.get('default_route')!r}")
    if "did not accept the password" not in found.get("wrong_problem", ""):
        problems.append(f"Wi-Fi wrong password: {found.get('wrong_problem')!r}")
    return problems


def update_run(machine: Machine, key: Path, user: str, work: Path) -> int:
    """`ansible-playbook ansible/site.yml` against the running image, with the image's settings: changed=0."""
    inventory = work / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    shutil.copy(REPO / "inventory" / "group_vars" / "all.yml", inventory / "group_vars" / "all.yml")
    shutil.copy(
        REPO / "image" / "pi-gen" / "stage-billy" / "01-playbook" / "files" / "image.yml",
        inventory / "group_vars" / "billy.yml",
    )
    (inventory / "group_vars" / "billy.yml").write_text(
        (inventory / "group_vars" / "billy.yml")
        .read_text()
        .replace("billy_image_mode: true", "billy_image_mode: false")
    )
    host = {
        "ansible_host": "127.0.0.1",
        "ansible_port": machine.ssh_port,
        "ansible_user": user,
        "ansible_ssh_private_key_file": str(key),
        "ansible_become": True,
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
    }
    (inventory / "hosts.yml").write_text(json.dumps({"billy": {"hosts": {"billy-image": host}}}))
    environ = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible" / "ansible.cfg"),
        "BILLY_LLM_ENGINE": "llama_cpp",
        "BILLY_MODELS_LOCAL_DIR": str(REPO / ".cache" / "models"),
    }
    run = subprocess.run(
        ["ansible-playbook", "-i", str(inventory / "hosts.yml"), str(REPO / "ansible" / "site.yml")],
        capture_output=True,
        text=True,
        env=environ,
    )
    (work / "update-run.log").write_text(run.stdout + run.stderr)
    recap = re.search(r"billy-image\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", run.stdout)
    assert run.returncode == 0 and recap, f"update run failed, see {work / 'update-run.log'}"
    print(f"update run: changed={recap[1]}", flush=True)
    return int(recap[1])


if __name__ == "__main__":
    sys.exit(main())
