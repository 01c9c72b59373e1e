"""The owner's own wake word (issue 25, item 4): an openWakeWord classifier in ONNX (the original's
"hey_billy.onnx" kind) or a microWakeWord model, uploaded, tried before it is kept, offered on the web page and
used by a whole Billy, who wakes on it."""

from __future__ import annotations

import pytest
from own_wake_fixtures import classifier, micro_files
from waiting import wait_until

from billy.hearing.own_wake_words import WakeWordUploadError, add_own_model, own_wake_models, remove_own_model


def test_models_are_kept_only_once_they_load_and_run(tmp_path):
    onnx_model = add_own_model(tmp_path, {"hey_billy.onnx": classifier(0.0)})
    micro = add_own_model(tmp_path, micro_files("my_nabu"))
    assert own_wake_models(tmp_path) == [onnx_model, micro]
    assert onnx_model == tmp_path / "wakewords" / "hey_billy" / "hey_billy.onnx" and micro.suffix == ".json"
    remove_own_model(tmp_path, "hey_billy")
    assert own_wake_models(tmp_path) == [micro]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"hey_billy.onnx": b"not a model at all"}, "does not load and run as a wake word"),
        ({"wrong.onnx": classifier(0.5, features=32)}, "not openWakeWord's"),
        ({"a.json": b'{"model": "b.tflite"}', "c.tflite": b"x"}, "names the model 'b.tflite'"),
        ({"hey.exe": b"MZ"}, "upload an openWakeWord model"),
        ({"a.onnx": classifier(0.0), "b.onnx": classifier(0.0)}, "upload an openWakeWord model"),
        ({"../../evil name.onnx": classifier(0.0)}, "name the model with letters"),
    ],
)
def test_a_model_that_cannot_wake_billy_is_refused_and_nothing_kept(tmp_path, files, reason):
    with pytest.raises(WakeWordUploadError, match=reason):
        add_own_model(tmp_path, files)
    assert own_wake_models(tmp_path) == [] and not list((tmp_path / "wakewords").glob(".upload-*"))


def test_billy_wakes_on_his_owners_microwakeword_model(tmp_path, tank_factory, speak):
    model = add_own_model(tmp_path, micro_files("my_nabu"))
    tank = tank_factory(
        {"WAKE_WORD_ENABLED": "true", "WAKE_WORD_BACKEND": "microwakeword", "WAKE_WORD_MODEL": str(model)}
    )
    tank.microphone.queue(speak("Okay Nabu."))
    wait_until(lambda: tank.billy.wake_word.detections, "the owner's own model waking Billy")


def test_an_onnx_classifier_runs_on_billys_openwakeword_features(tmp_path, tank_factory):
    sure = add_own_model(tmp_path, {"always.onnx": classifier(0.99)})
    never = add_own_model(tmp_path, {"never.onnx": classifier(0.01)})
    quiet = tank_factory(
        {"WAKE_WORD_ENABLED": "true", "WAKE_WORD_BACKEND": "openwakeword", "WAKE_WORD_MODEL": str(never)}
    )
    awake = tank_factory(
        {"WAKE_WORD_ENABLED": "true", "WAKE_WORD_BACKEND": "openwakeword", "WAKE_WORD_MODEL": str(sure)}
    )
    # A classifier that is always sure wakes him from the room's silence once it has 1.28 s of features ...
    wait_until(lambda: awake.billy.wake_word.detections, "the ONNX classifier's probability reaching Billy")
    # ... while the one that never is, fed the same, has not (it has read as many frames by now).
    assert not quiet.billy.wake_word.detections
