#!/usr/bin/env bash
# What the tests need from Debian's packages, installed where it is missing: nginx, the HTTP
# server the object store tests start on loopback (moto, the S3 server, comes from PyPI with
# the test dependencies), and Apache's Java Avro library with a JDK, a reference reader of the
# files the package writes (tests/test_other_readers.py).
set -euo pipefail
has_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }
has_java_avro() { [ -f /usr/share/java/avro.jar ] && command -v javac >/dev/null 2>&1; }
wanted=()
has_nginx || wanted+=(nginx)
has_java_avro || wanted+=(libavro-java)
command -v javac >/dev/null 2>&1 || wanted+=(default-jdk-headless)
[ ${#wanted[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "installing ${wanted[*]} needs root: apt-get install ${wanted[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q "${wanted[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${wanted[@]}" >/dev/null; }
# Installing must not leave the system's nginx on port 80: the tests start their own.
$sudo systemctl stop nginx >/dev/null 2>&1 || $sudo service nginx stop >/dev/null 2>&1 || true
has_nginx && has_java_avro
