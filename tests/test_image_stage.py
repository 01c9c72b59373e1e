"""The SD image's fast checks: the pi-gen stage's structure, the shim that runs it here with pi-gen's contract,
the stage `make image-pigen` installs being byte for byte the one the local build runs, and the manifest.

The image build and boot themselves are `make image` and `make image-test` (long, CPU-heavy, not in `make test`).
"""

from __future__ import annotations

import filecmp
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "image" / "pi-gen" / "stage-billy"
BUILD = REPO / "image" / "build"
CONFIG = REPO / "image" / "pi-gen" / "config"


def read_config() -> dict[str, str]:
    values = {}
    for line in CONFIG.read_text().splitlines():
        match = re.match(r"^([A-Z_]+)=(.*)$", line)
        if match:
            values[match[1]] = match[2].strip('"')
    return values


def test_the_stage_has_pi_gens_shape():
    assert os.access(STAGE / "prerun.sh", os.X_OK)
    assert "copy_previous" in (STAGE / "prerun.sh").read_text()
    assert re.search(r"^IMG_SUFFIX=", (STAGE / "EXPORT_IMAGE").read_text(), re.M)
    sub_stages = sorted(path.name for path in STAGE.iterdir() if path.is_dir())
    assert sub_stages == ["00-controller", "01-playbook", "02-tidy"]
    scripts = sorted(STAGE.glob("*/[0-9][0-9]-run.sh")) + sorted(STAGE.glob("*/[0-9][0-9]-run-chroot.sh"))
    assert [str(script.relative_to(STAGE)) for script in scripts] == [
        "00-controller/00-run.sh",
        "01-playbook/00-run.sh",
        "02-tidy/00-run-chroot.sh",
    ]
    for script in [*scripts, STAGE / "prerun.sh"]:
        # pi-gen skips a run.sh that is not executable, silently: each must be.
        if script.name.endswith("-run.sh") or script.name == "prerun.sh":
            assert os.access(script, os.X_OK), script
        subprocess.run(["bash", "-n", str(script)], check=True)
    playbook_step = (STAGE / "01-playbook" / "00-run.sh").read_text()
    assert "community.general.chroot" in playbook_step and "ansible/site.yml" in playbook_step
    assert "billy_image_mode: true" in (STAGE / "01-playbook" / "files" / "image.yml").read_text()


def test_the_config_names_the_image_host_and_stages():
    config = read_config()
    assert config["IMG_NAME"] == "billy" and config["TARGET_HOSTNAME"] == "billy"
    assert config["ENABLE_SSH"] == "1" and config["DEPLOY_COMPRESSION"] == "xz"
    assert config["RELEASE"] == "trixie"
    assert config["STAGE_LIST"].split()[-1] == "${BASE_DIR}/stage-billy"


def make_root(path: Path) -> Path:
    """A root filesystem holding just bash and its libraries: enough for on_chroot to run a script in it."""
    for directory in ("proc", "dev", "sys", "run", "tmp", "bin"):
        (path / directory).mkdir(parents=True, exist_ok=True)
    libraries = re.findall(
        r"(/\S+\.so[.\d]*)", subprocess.run(["ldd", "/bin/bash"], capture_output=True, text=True).stdout
    )
    for source in ["/bin/bash", *libraries]:
        target = path / source.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    (path / "bin" / "sh").symlink_to("bash")
    return path


def write(path: Path, text: str, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755 if executable else 0o644)


@pytest.mark.skipif(os.geteuid() != 0, reason="on_chroot mounts and chroots: root only")
def test_the_shim_runs_a_stage_in_pi_gens_order_with_its_helpers(tmp_path):
    previous = make_root(tmp_path / "previous" / "rootfs")
    (previous / "from-previous").write_text("stage2\n")
    stage = tmp_path / "stage-test"
    order = tmp_path / "order.log"
    note = f'echo "$0 $(basename "$PWD")" >> {order}\n'
    write(stage / "prerun.sh", f'#!/bin/bash -e\necho prerun >> {order}\n[ -d "$ROOTFS_DIR" ] || copy_previous\n', True)
    write(stage / "00-first" / "00-run.sh", "#!/bin/bash -e\n" + note + 'test -f "$ROOTFS_DIR/from-previous"\n', True)
    write(stage / "00-first" / "00-run-chroot.sh", "echo inside > /written-in-chroot\ntest -d /proc/self\n")
    write(stage / "00-first" / "01-run.sh", "#!/bin/bash -e\n" + note, True)
    write(stage / "00-first" / "02-run.sh", "#!/bin/bash -e\n" + note)  # not executable: pi-gen skips it
    write(stage / "01-skipped" / "00-run.sh", "#!/bin/bash -e\n" + note, True)
    write(stage / "01-skipped" / "SKIP", "")
    write(stage / "02-last" / "00-run.sh", "#!/bin/bash -e\n" + note + 'test "$STAGE" = stage-test\n', True)
    config = tmp_path / "config"
    config.write_text("TARGET_HOSTNAME=fish\n")
    write(stage / "02-last" / "01-run.sh", f'#!/bin/bash -e\necho "host $TARGET_HOSTNAME" >> {order}\n', True)

    work = tmp_path / "work"
    run = subprocess.run(
        [str(BUILD / "pigen-shim.sh"), str(stage), str(work), str(previous), str(config)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    steps = order.read_text().split("\n")
    assert steps[:-1] == ["prerun", "./00-run.sh 00-first", "./01-run.sh 00-first", "./00-run.sh 02-last", "host fish"]
    rootfs = work / "stage-test" / "rootfs"
    assert (rootfs / "written-in-chroot").read_text() == "inside\n" and (rootfs / "from-previous").exists()
    # Nothing stays mounted under the work folder.
    assert str(work) not in Path("/proc/mounts").read_text()


def test_the_shim_stops_at_a_failing_step(tmp_path):
    stage = tmp_path / "stage-fails"
    write(stage / "00-step" / "00-run.sh", "#!/bin/bash -e\nexit 3\n", True)
    write(stage / "00-step" / "01-run.sh", f"#!/bin/bash -e\ntouch {tmp_path}/ran-on\n", True)
    (tmp_path / "previous").mkdir()
    run = subprocess.run(
        [str(BUILD / "pigen-shim.sh"), str(stage), str(tmp_path / "work"), str(tmp_path / "previous")],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and not (tmp_path / "ran-on").exists()


@pytest.fixture(scope="module")
def collections() -> Path:
    subprocess.run(
        ["sh", str(REPO / "ansible" / "install-collections.sh")],
        check=True,
        env={**os.environ, "VENV": str(Path(sys.executable).parents[1])},
    )
    return REPO / ".cache" / "collections"


def test_make_image_pigen_installs_the_stage_the_local_build_runs(tmp_path, collections):
    pigen = tmp_path / "pi-gen"
    write(pigen / "build.sh", "#!/bin/bash\n", True)
    (pigen / "stage2").mkdir()
    (pigen / "config").write_text("IMG_NAME=mine\n")
    run = subprocess.run(
        ["make", "-C", str(REPO), "--no-print-directory", "-o", "setup-ansible", "image-pigen", f"PIGEN={pigen}"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The local build's stage: made by the script build-image.sh runs, at the place it runs it from.
    local = tmp_path / "local" / "stage-billy"
    subprocess.run(["sh", str(BUILD / "bundle-stage.sh"), str(local)], check=True)
    comparison = filecmp.dircmp(pigen / "stage-billy", local)
    assert not differences(comparison)
    digest = subprocess.run(
        ["sh", str(BUILD / "stage-digest.sh"), str(local)], capture_output=True, text=True, check=True
    )
    assert digest.stdout.strip() in run.stdout
    # What the stage runs is there: the playbook, the roles, the app, the collections it connects with.
    payload = local / "files" / "billy"
    assert (payload / "ansible" / "site.yml").is_file() and (payload / "roles" / "billy_app").is_dir()
    assert (payload / "app" / "billy" / "settings" / "local.py").is_file()
    assert (
        payload
        / "collections"
        / "ansible_collections"
        / "community"
        / "general"
        / "plugins"
        / "connection"
        / "chroot.py"
    ).is_file()
    assert not list(payload.rglob("__pycache__"))
    # The stage folder itself is carried unchanged.
    for source in STAGE.rglob("*"):
        if source.is_file():
            assert (local / source.relative_to(STAGE)).read_bytes() == source.read_bytes()
    assert (pigen / "config").read_bytes() == CONFIG.read_bytes()
    assert (pigen / "config.before-billy").read_text() == "IMG_NAME=mine\n"
    assert (pigen / "stage2" / "SKIP_IMAGES").exists()


def differences(comparison: filecmp.dircmp) -> list[str]:
    # Shallow=False: compare contents, not only sizes and times.
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    found = comparison.left_only + comparison.right_only + mismatch + errors
    for sub in comparison.subdirs.values():
        found += differences(sub)
    return found


def test_image_pigen_refuses_a_folder_that_is_not_pi_gen(tmp_path):
    run = subprocess.run(["sh", str(BUILD / "install-pigen.sh"), str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 1 and "is not a pi-gen checkout" in run.stderr and "git clone -b arm64" in run.stderr


def test_the_manifest_checks_the_models_in_the_image_against_the_catalogue(tmp_path, models_dir):
    rootfs = tmp_path / "rootfs"
    shutil.copytree(models_dir / "en_US-joe-medium", rootfs / "var/lib/billy/models/en_US-joe-medium")
    (rootfs / "boot").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "billy-trixie-arm64.img").write_bytes(b"\0" * 4096)
    (out / "billy-trixie-arm64.img.xz").write_bytes(b"xz")
    arguments = [sys.executable, str(BUILD / "manifest.py"), "--out", str(out), "--name", "billy-trixie-arm64"]
    arguments += ["--release", "trixie", "--disk-id", "b111ba55", "--rootfs", str(rootfs), "--stage-digest", "abc"]
    arguments += [
        "--catalogue",
        str(REPO / "app/billy/models/catalogue.json"),
        "--pyproject",
        str(REPO / "app/pyproject.toml"),
    ]
    arguments += ["--llm-engine", "llama_cpp", "--seconds-stage", "1", "--seconds-total", "2"]
    subprocess.run(arguments, check=True)
    manifest = json.loads((out / "billy-trixie-arm64.manifest.json").read_text())
    assert manifest["models"]["en_US-joe-medium"]["matches_catalogue"] is True
    assert manifest["partitions"]["root"] == "PARTUUID=b111ba55-02" and manifest["app"]["name"] == "billy"
    os_list = json.loads((out / "billy-trixie-arm64.os-list.json").read_text())["os_list"][0]
    assert os_list["init_format"] == "cloudinit-rpi" and os_list["extract_size"] == 4096

    voice = rootfs / "var/lib/billy/models/en_US-joe-medium/en_US-joe-medium.onnx.json"
    voice.write_text("{}")
    failed = subprocess.run(arguments, capture_output=True, text=True)
    assert failed.returncode == 1 and "differ from the catalogue: en_US-joe-medium" in failed.stderr


def test_export_makes_fat_boot_and_ext4_root_with_known_partuuids(tmp_path):
    rootfs = tmp_path / "rootfs"
    write(rootfs / "boot" / "firmware" / "cmdline.txt", "console=serial0,115200 root=PARTUUID=b111ba55-02 rootwait\n")
    write(rootfs / "etc" / "fstab", "PARTUUID=b111ba55-02 / ext4 defaults,noatime 0 1\n")
    write(rootfs / "var" / "lib" / "billy" / "owned", "billy's\n")
    os.chown(rootfs / "var" / "lib" / "billy" / "owned", 1234, 1234)
    image = tmp_path / "billy.img"
    subprocess.run([str(BUILD / "export-image.sh"), str(rootfs), str(image), "b111ba55"], check=True)

    table = json.loads(subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, check=True).stdout)
    boot, root = table["partitiontable"]["partitions"]
    assert table["partitiontable"]["id"] == "0xb111ba55" and boot["type"] == "c" and root["type"] == "83"
    assert boot["start"] * 512 == 8 << 20 and boot["size"] * 512 == 512 << 20
    # pi-gen's size: what the root holds (a few bytes here) + 20 % + 200 MiB, up to a whole 8 MiB.
    assert root["start"] * 512 == (8 + 512) << 20 and root["size"] * 512 == 208 << 20
    environ = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    fat = f"{image}@@{boot['start'] * 512}"
    listing = subprocess.run(["mdir", "-b", "-i", fat, "::/"], capture_output=True, text=True, env=environ, check=True)
    assert "::/cmdline.txt" in listing.stdout
    label = subprocess.run(["mlabel", "-s", "-i", fat, "::"], capture_output=True, text=True, env=environ, check=True)
    assert "BOOTFS" in label.stdout.upper()

    ext4 = tmp_path / "root.ext4"
    with image.open("rb") as source, ext4.open("wb") as target:
        source.seek(root["start"] * 512)
        target.write(source.read(root["size"] * 512))
    owned = subprocess.run(["debugfs", "-R", "stat /var/lib/billy/owned", str(ext4)], capture_output=True, text=True)
    assert "User:  1234" in owned.stdout
    firmware = subprocess.run(["debugfs", "-R", "ls -l /boot/firmware", str(ext4)], capture_output=True, text=True)
    assert "cmdline.txt" not in firmware.stdout
    header = subprocess.run(["dumpe2fs", "-h", str(ext4)], capture_output=True, text=True).stdout
    assert re.search(r"^Filesystem volume name:\s+rootfs$", header, re.M)
    # The boot files are back in the root filesystem folder once the image is made.
    assert (rootfs / "boot" / "firmware" / "cmdline.txt").exists()


def test_make_images_preflight_names_what_is_missing_in_one_line(tmp_path):
    # Without /usr/sbin on PATH debootstrap (and chroot) are not found: the build stops before its first long
    # step with one line naming the tool, not twenty minutes later inside debootstrap.
    done = subprocess.run(
        ["bash", str(BUILD / "preflight.sh"), str(tmp_path / "cache")],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    if os.geteuid() == 0:
        assert done.stderr.startswith("make image: debootstrap is missing: sh scripts/install-system-packages.sh")
    else:
        assert done.stderr.startswith("make image: run as root")


def test_the_boot_test_fails_at_once_with_the_consoles_end_when_qemu_exits(tmp_path):
    sys.path.insert(0, str(REPO / "image" / "test"))
    try:
        import boot_test
    finally:
        sys.path.pop(0)
    machine = object.__new__(boot_test.Machine)  # its qemu, as it is after exiting early: a process that ended
    machine.console = tmp_path / "console.log"
    machine.console.write_text("[    2.1] virtio_net: probe failed\n[    9.8] Kernel panic - not syncing: VFS\n")
    machine.process = subprocess.Popen(["sh", "-c", "exit 3"])
    machine.process.wait(timeout=30)
    with pytest.raises(RuntimeError, match=r"qemu exited \(3\) while waiting for SSH:\n[\s\S]*Kernel panic"):
        boot_test.wait("SSH", lambda: False, timeout=3600, machine=machine)


def test_the_boot_test_refuses_an_image_of_another_stage_before_booting_it(tmp_path, collections):
    """An image built before the last change to the playbook, roles or app would fail the update run's changed=0
    an hour in: the boot test says so at once, naming both stages."""
    sys.path.insert(0, str(REPO / "image" / "test"))
    try:
        import boot_test
    finally:
        sys.path.pop(0)
    stage = tmp_path / "stage-billy"
    subprocess.run(["sh", str(BUILD / "bundle-stage.sh"), str(stage)], check=True)
    digest = subprocess.run(["sh", str(BUILD / "stage-digest.sh"), str(stage)], capture_output=True, text=True)
    now = digest.stdout.strip()
    assert boot_test.stage_changed({"stage_digest": now}, tmp_path) is None
    older = "4a8d27a3" + "0" * 56
    said = boot_test.stage_changed({"stage_digest": older}, tmp_path)
    assert said is not None and said.startswith(
        f"the image was built from another stage (4a8d27a3) than this repo makes now ({now[:8]})"
    )
    assert said.endswith("run `make image` first")


def test_the_release_workflow_is_valid_and_builds_the_stage_make_image_runs(tmp_path):
    workflow = REPO / ".github" / "workflows" / "release-image.yml"
    check = [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    done = subprocess.run([*check, str(workflow)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = workflow.read_text()
    assert "make image-pigen" in text and "./build-docker.sh" in text and "--branch arm64" in text
    assert "runs-on: ubuntu-24.04-arm" in text  # native arm64, no emulation
    # The check can fail: a job without its runner is refused.
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("    runs-on: ubuntu-24.04-arm\n", ""))
    assert subprocess.run([*check, str(broken)], capture_output=True, timeout=120).returncode == 1


def _user_locale_helper():
    path = Path(__file__).resolve().parent.parent / "image/build/base/files/usr/local/lib/billy/enable-user-locale"
    loader = importlib.machinery.SourceFileLoader("enable_user_locale", str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_the_locale_imager_chooses_is_listed_for_locale_gen_before_cloud_init_builds_it(tmp_path):
    """Debian's locale-gen builds only /etc/locale.gen's lines: the user-data's locale must be one of them."""
    helper = _user_locale_helper()
    supported = tmp_path / "SUPPORTED"
    supported.write_text("en_GB.UTF-8 UTF-8\nen_GB ISO-8859-1\nde_DE.UTF-8 UTF-8\n")
    locale_gen = tmp_path / "locale.gen"
    locale_gen.write_text("# en_GB.UTF-8 UTF-8\n# de_DE.UTF-8 UTF-8\n")
    user_data = '#cloud-config\n{"timezone": "Europe/Amsterdam", "locale": "en_GB.UTF-8"}\n'
    assert helper.wanted_locale(user_data) == "en_GB.UTF-8"
    assert "added 'en_GB.UTF-8 UTF-8'" in helper.enable("en_GB.UTF-8", locale_gen, supported)
    assert locale_gen.read_text().splitlines()[-1] == "en_GB.UTF-8 UTF-8"
    assert "already" in helper.enable("en_GB.UTF-8", locale_gen, supported)  # a second boot adds nothing
    assert "not a supported locale" in helper.enable("xx_XX.UTF-8", locale_gen, supported)
    for unsafe in ('locale: "en_GB.UTF-8\\nC.UTF-8 UTF-8"', "locale: [1, 2]", "locale: ../../etc", "- not a mapping"):
        assert helper.wanted_locale(unsafe) is None, unsafe
    files = Path(helper.__file__).parents[4]  # image/build/base/files: the image's root
    assert (
        "- [/usr/local/lib/billy/enable-user-locale]"
        in (files / "etc/cloud/cloud.cfg.d/91-user-locale.cfg").read_text()
    )
    assert os.access(helper.__file__, os.X_OK)
