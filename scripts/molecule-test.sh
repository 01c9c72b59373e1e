#!/bin/sh
# Every Molecule scenario, its whole output kept in a log; when one fails, the failed tasks are printed last,
# where a short tail of the output (CI's) still shows which task failed and why.
# Usage: molecule-test.sh PYTHON [LOG]   (PYTHON: the venv's, which runs scripts/failed_tasks.py)
set -u
python=$1
log=${2:-out/molecule.log}
mkdir -p "$(dirname "$log")"
status_file=$(mktemp)
trap 'rm -f "$status_file"' EXIT
{
    molecule test --all 2>&1
    echo $? >"$status_file"
} | tee "$log"
status=$(cat "$status_file")
if [ "$status" -ne 0 ]; then
    "$python" "$(dirname "$0")/failed_tasks.py" "$log"
fi
exit "$status"
