#!/usr/bin/env bash
# The servers the object store tests start on loopback: nginx from Debian's packages
# (moto, the S3 server, comes from PyPI with the test dependencies).
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "nginx is missing and installing it needs root: apt-get install nginx" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Installing must not start the system's nginx on port 80: the tests start their own.
$sudo apt-get install -y -q nginx-light >/dev/null 2>&1 \
    || $sudo apt-get install -y -q nginx >/dev/null 2>&1 \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q nginx >/dev/null; }
$sudo systemctl stop nginx >/dev/null 2>&1 || $sudo service nginx stop >/dev/null 2>&1 || true
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]
