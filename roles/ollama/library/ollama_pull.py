#!/usr/bin/python
"""Pull one model through Ollama's /api/pull and write its progress to a file as it streams in.

A module returns only when it ends, so the role runs this one in the background (async) and shows the
progress file's milestones ("10%" ... "100%") as they appear: what `ollama pull` draws as a bar.
"""

import json
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: ollama_pull
short_description: Pull an Ollama model, writing its progress to a file.
options:
  name: {type: str, required: true, description: The model, as `ollama pull` takes it.}
  url: {type: str, required: true, description: "Ollama's address, for example http://127.0.0.1:11434."}
  progress_file: {type: path, required: true, description: Where the progress lines go (truncated first).}
  timeout: {type: int, default: 600, description: Seconds without a streamed line before giving up.}
"""

MILESTONES = range(10, 100, 10)  # 100% is written only on Ollama's "success", never from byte counts


def pull(module, progress):
    request = urllib.request.Request(
        module.params["url"].rstrip("/") + "/api/pull",
        data=json.dumps({"model": module.params["name"], "stream": True}).encode(),
        headers={"Content-Type": "application/json"},
    )
    layers = {}
    shown = 0
    with urllib.request.urlopen(request, timeout=module.params["timeout"]) as response:
        for raw in response:
            line = json.loads(raw)
            if "error" in line:
                return line["error"]
            if line.get("status") == "success":
                progress.write("100%\n")
                return None
            if line.get("total"):
                layers[line["digest"]] = (line.get("completed", 0), line["total"])
                done = 100 * sum(c for c, _ in layers.values()) // sum(t for _, t in layers.values())
                for milestone in MILESTONES:
                    if shown < milestone <= done:
                        progress.write(f"{milestone}%\n")
                        shown = milestone
                progress.flush()
    return "the stream ended before Ollama said success"


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "url": {"type": "str", "required": True},
            "progress_file": {"type": "path", "required": True},
            "timeout": {"type": "int", "default": 600},
        },
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=True)
    name = module.params["name"]
    with open(module.params["progress_file"], "w", encoding="utf-8") as progress:
        try:
            error = pull(module, progress)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            error = str(exc)
        if error:
            # The line the role's progress display waits for, so it stops at once instead of timing out.
            progress.write(f"failed: {error}\n")
    if error:
        module.fail_json(msg=f"ollama pull {name} failed: {error}")
    module.exit_json(changed=True, model=name)


if __name__ == "__main__":
    main()
