#!/usr/bin/env bash
# Creates a Python virtual environment with the real fedora-messaging client and the
# schema packages of Koschei's and Koji's messages, for the interoperability tests
# (tests/tests/it/messaging/python.rs) and for trying Koschei's messages by hand.
#
#   bash scripts/messaging-venv.sh [DIR]     # default DIR: target/messaging-venv
#
# Prints the venv's python on stdout. Exit codes: 0 ready, 2 PyPI unreachable (nothing to
# install from), 1 any other failure. Fast when the venv is already complete.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$here/target/messaging-venv}"
python="$dir/bin/python"
# Pinned: the versions the tests were written against.
packages=(fedora-messaging==3.9.1 koschei-messages==1.0.1 koji-fedoramessaging-messages==1.3.0)

# One creator at a time (tests run in parallel): the others wait and then find it ready.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9

if [ -x "$python" ] && "$python" -c 'import fedora_messaging, koschei_messages, koji_fedoramessaging_messages' 2>/dev/null; then
    echo "$python"
    exit 0
fi

base=""
for candidate in /usr/bin/python3 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -m venv --help >/dev/null 2>&1; then
        base="$candidate"
        break
    fi
done
if [ -z "$base" ]; then
    echo "messaging-venv: no python3 with the venv module (Debian: apt-get install python3-venv)" >&2
    exit 1
fi

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
"$base" -m venv "$dir" >&2
log="$dir/pip.log"
if ! "$dir/bin/pip" install --disable-pip-version-check -q "${packages[@]}" >"$log" 2>&1; then
    if grep -qiE "connection|resolve|network|timed out|Temporary failure|No matching distribution" "$log"; then
        echo "messaging-venv: PyPI is unreachable (see $log)" >&2
        exit 2
    fi
    cat "$log" >&2
    exit 1
fi
echo "$python"
