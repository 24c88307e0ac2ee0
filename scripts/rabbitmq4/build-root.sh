#!/usr/bin/env bash
# Builds a Debian unstable root holding RabbitMQ 4.x (rabbitmq-server and both plugins from Debian's
# packages), once, in a cache folder outside the clone; prints the folder. Run as root (debootstrap and
# chroot need it). Nothing is started here: scripts/rabbitmq4/ starts nodes in the root.
#   ROOT (default ${XDG_CACHE_HOME:-$HOME/.cache}/rabbitmq-order-workshop/rabbitmq4-root)
#   DEBIAN_MIRROR (default: the mirror in this machine's apt sources, else deb.debian.org)
set -euo pipefail
ROOT=${ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/rabbitmq-order-workshop/rabbitmq4-root}
if [ -x "$ROOT/usr/sbin/rabbitmq-server" ] && [ -f "$ROOT/.workshop-ready" ]; then
  echo "$ROOT"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "build-root: run as root (debootstrap and chroot need it)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "build-root: installing debootstrap with apt" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi
mirror=${DEBIAN_MIRROR:-$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -v security | head -1 | tr -d ' ' || true)}
mirror=${mirror:-http://deb.debian.org/debian}
partial="$ROOT.partial"
mkdir -p "$(dirname "$ROOT")"
# A root whose debootstrap finished is kept across a failed install (the slow half).
if [ ! -f "$partial/.debootstrap-done" ]; then
  rm -rf "$partial"
  echo "build-root: debootstrap sid into $partial from $mirror (about 2-3 min)" >&2
  debootstrap --variant=minbase sid "$partial" "$mirror" >"$partial.log" 2>&1 || { tail -20 "$partial.log" >&2; exit 1; }
  touch "$partial/.debootstrap-done"
fi
# A mirror that is a dated copy serves a Release file past its Valid-Until: accept it.
echo 'Acquire::Check-Valid-Until "false";' > "$partial/etc/apt/apt.conf.d/99workshop-no-valid-until"
# Keep package scripts from starting the service inside the root.
printf '#!/bin/sh\nexit 101\n' > "$partial/usr/sbin/policy-rc.d"
chmod +x "$partial/usr/sbin/policy-rc.d"
cleanup() { umount "$partial/proc" 2>/dev/null || true; umount "$partial/dev" 2>/dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$partial/proc"
mount --bind /dev "$partial/dev"
cp /etc/hosts "$partial/etc/hosts"
echo "build-root: apt-get install rabbitmq-server in the root (about 1 min)" >&2
chroot "$partial" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server procps' >>"$partial.log" 2>&1 ||
  { tail -20 "$partial.log" >&2; exit 1; }
cleanup
trap - EXIT
chroot "$partial" dpkg-query -W -f='${Version}\n' rabbitmq-server > "$partial/.workshop-ready"
rm -rf "$ROOT"
mv "$partial" "$ROOT"
rm -f "$partial.log"
echo "$ROOT"
