#!/usr/bin/env bash
# Runs every test of the workspace. First installs, when missing, what the compatibility tests in
# tests/compat need (idempotent; a second run installs nothing):
#   - the reference Apache ZooKeeper 3.8 and zkCli: Debian's `zookeeper`, and the servlet API its
#     AdminServer (Jetty) needs: `libservlet-api-java`;
#   - the C client: `zookeeper-bin` (cli_mt), `libzookeeper-mt-dev` and gcc (to build c_multi.c);
#   - javac (`default-jdk-headless`), which compiles scripts/java-bench/ZkJavaBench.java, the
#     load generator on Apache's Java client (compare-zookeeper.sh --client java);
#   - `ip` (iproute2), for the ensemble partition test's network namespaces;
#   - openssl, which (with the JRE's keytool) makes the certificates of the TLS test;
#   - kazoo: a Python venv in .venv (or $RZK_VENV) with kazoo==2.11.0; the kazoo test finds it
#     through RZK_KAZOO_PYTHON. The same venv gets prometheus-client==0.26.0, whose text parser the
#     Prometheus endpoint test uses, and pure-sasl==0.6.2, which kazoo's SASL (DIGEST-MD5) needs.
# Arguments go to the test runner (cargo nextest run, else cargo test); every test runs even after
# a failure, so that one run shows them all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

KAZOO_VERSION=2.11.0
PROMETHEUS_CLIENT_VERSION=0.26.0
PURE_SASL_VERSION=0.6.2
SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

apt_install() {
  if [ -z "${apt_updated:-}" ]; then
    "${SUDO[@]}" apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "$@"
}

need=()
[ -e /usr/share/java/zookeeper.jar ] && [ -e /usr/share/zookeeper/bin/zkCli.sh ] && [ -x /usr/bin/java ] ||
  need+=(zookeeper)
[ -e /usr/share/java/servlet-api.jar ] || need+=(libservlet-api-java)
[ -x /usr/lib/zookeeper/bin/cli_mt ] || [ -x /usr/bin/cli_mt ] || need+=(zookeeper-bin)
[ -e /usr/include/zookeeper/zookeeper.h ] || need+=(libzookeeper-mt-dev)
command -v cc >/dev/null || need+=(gcc)
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v ip >/dev/null || need+=(iproute2)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${need[*]}"
  apt_install "${need[@]}"
fi

venv=${RZK_VENV:-$root/.venv}
has_python_packages() {
  "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('kazoo') != '$KAZOO_VERSION' \
    or m.version('prometheus-client') != '$PROMETHEUS_CLIENT_VERSION' \
    or m.version('pure-sasl') != '$PURE_SASL_VERSION')" 2>/dev/null
}
if ! has_python_packages; then
  echo "scripts/test.sh: installing kazoo==$KAZOO_VERSION, prometheus-client==$PROMETHEUS_CLIENT_VERSION and pure-sasl==$PURE_SASL_VERSION in $venv"
  if [ ! -x "$venv/bin/python" ] && ! python3 -m venv "$venv"; then
    apt_install python3-venv
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "kazoo==$KAZOO_VERSION" \
    "prometheus-client==$PROMETHEUS_CLIENT_VERSION" "pure-sasl==$PURE_SASL_VERSION"
  has_python_packages
fi
export RZK_KAZOO_PYTHON="$venv/bin/python"

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
