#!/bin/sh
# install-deps.sh - installs every Debian package the project needs.
#
# Idempotent and quiet when everything is there: it asks dpkg first and only
# calls apt-get for what is missing (with sudo when not root). Called by
# `make demo`, `make check` and .ci/run; safe to run by hand.
set -eu

PKGS="build-essential flex bison pkg-config libpcap-dev libcmocka-dev libglpk-dev \
clang llvm-dev libclang-rt-14-dev \
libdpdk-dev librdkafka-dev kcat \
tshark graphviz python3 python3-jsonschema jq time \
default-jre-headless maven \
thrift-compiler libthrift-c-glib-dev libglib2.0-dev iproute2 procps"
# the run-time libraries of the prebuilt public P4 tools (p4c, BMv2; not
# Debian packages: docs/targets.md), when HTS_P4TOOLS names them
if [ -n "${HTS_P4TOOLS:-}" ]; then
    PKGS="$PKGS libgc1 libprotobuf32 libboost-iostreams1.74.0 cpp libz3-4 xz-utils \
libjsoncpp25 libthrift-0.17.0 libboost-program-options1.74.0 libxxhash0 libpcap0.8 \
libgmp10 libnanomsg5 python3-thrift"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO="sudo"
fi
# tshark asks whether non-root users may capture; answer for it
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
