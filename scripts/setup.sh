#!/usr/bin/env bash
# Installs what building and testing Koschei needs on a Debian 12 machine, and makes sure a
# PostgreSQL server answers on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672 for the tests.
#
#   bash scripts/setup.sh          # as root, or with sudo available
#
# Packages:
#   libsolv-dev libsolvext-dev          the system libsolv with rpm-md support (koschei-solver)
#   libclang1-14 libclang-common-14-dev bindgen inside libsolv-sys's build script
#   pkg-config                          finding libsolv
#   postgresql                          the database server (tests; the embedded private cluster)
#   python3-hawkey                      the original's resolver, for the differential tests
#   rpm-common                          /usr/lib/rpm/rpmrc, without which hawkey aborts
#   chromium                            the web frontend's browser test
#   rabbitmq-server                     the AMQP broker of the messaging tests (127.0.0.1:5672, guest)
#   python3-venv                        the fedora-messaging venv of scripts/messaging-venv.sh
#   libkrb5-dev                         GSSAPI headers for Kerberos login to Koji (koschei-gss)
#   krb5-kdc krb5-admin-server krb5-user  a real MIT KDC for the Kerberos tests (kdb5_util,
#                                       kadmin.local, krb5kdc, kinit)
#   rpm                                 rpmspec, which parses packaging/koschei.spec in the tests
set -euo pipefail

packages=(
    libsolv-dev libsolvext-dev libclang1-14 libclang-common-14-dev pkg-config
    postgresql python3-hawkey rpm-common gzip chromium fonts-dejavu-core
    rabbitmq-server python3-venv
    libkrb5-dev krb5-kdc krb5-admin-server krb5-user rpm
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi

# The tests use the server at KOSCHEI_TEST_DATABASE_URL (default 127.0.0.1:5432, user postgres).
# Start the machine's cluster if it exists but is down; without one the test harness starts a
# private cluster of its own, so this step is best effort.
if [ -z "${KOSCHEI_TEST_DATABASE_URL:-}" ] && command -v pg_lsclusters >/dev/null 2>&1; then
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
        if [ -n "$version" ]; then
            "${sudo_cmd[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        fi
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        echo "setup: PostgreSQL answers on 127.0.0.1:5432" >&2
    else
        echo "setup: no PostgreSQL on 127.0.0.1:5432; tests will start a private cluster" >&2
    fi
fi

# The messaging tests use the broker on 127.0.0.1:5672 with the default guest account (which
# RabbitMQ allows from loopback only). Start it when it is installed but down.
amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! amqp_up; then
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        "${sudo_cmd[@]}" systemctl start rabbitmq-server || true
    else
        "${sudo_cmd[@]}" service rabbitmq-server start || true
    fi
    for _ in $(seq 1 60); do
        amqp_up && break
        sleep 1
    done
fi
if amqp_up; then
    echo "setup: RabbitMQ answers on 127.0.0.1:5672" >&2
else
    echo "setup: no RabbitMQ on 127.0.0.1:5672; the messaging tests will fail" >&2
fi
