"""Name the Ansible tasks that failed in a Molecule log, briefly, so they are the last lines of the output.

CI keeps only the tail of what a run prints; Molecule ends with its recap, which says a step failed but not
which task or why. Usage: failed_tasks.py LOG
"""

import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Molecule's frame around Ansible's output ("  │ ") and the log prefix of its own lines.
FRAME = re.compile(r"^\s*[│└┌─]+\s?")
STEP = re.compile(r"(\w[\w-]*) ➜ (\w[\w-]*)")
TASK = re.compile(r"^(TASK|RUNNING HANDLER) \[(.*?)\]")
FAILURE = re.compile(r"^(fatal|failed): \[([^\]]+)\]")
MOST_FAILURES = 6
LINES_PER_FAILURE = 5
WIDTH = 200


def clean(line: str) -> str:
    return FRAME.sub("", ANSI.sub("", line.rstrip("\n")))


def failures(lines: list[str]) -> list[list[str]]:
    """Each failure: where (scenario, step, task) and the first lines of what Ansible said."""
    found = []
    step = task = ""
    for index, raw in enumerate(lines):
        line = clean(raw)
        if match := STEP.search(line):
            step = f"{match[1]} {match[2]}"
        if match := TASK.match(line):
            task = match[2]
            continue
        if FAILURE.match(line) and "ignoring" not in line:
            said = [line]
            for follow in lines[index + 1 : index + 1 + 40]:
                text = clean(follow)
                if not text.strip() or TASK.match(text) or FAILURE.match(text):
                    break
                said.append(text)
            if said[-1].strip() == "...ignoring":
                continue
            found.append([f"{step} / {task}"] + [s[:WIDTH] for s in said[:LINES_PER_FAILURE]])
    return found


def main(path: str) -> int:
    with open(path, encoding="utf-8", errors="replace") as log:
        found = failures(log.readlines())
    print(f"=== What failed (whole log: {path}) ===")
    if not found:
        print("No task failed; see the end of the log for the step that did.")
    for failure in found[:MOST_FAILURES]:
        print("\n".join(failure))
    if len(found) > MOST_FAILURES:
        print(f"... and {len(found) - MOST_FAILURES} more failures in the log.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
