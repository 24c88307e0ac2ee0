#!/usr/bin/env bash
# npm run test:containers: the project's Dockerfile and docker-compose.yml built and run for real.
#   1. a Docker engine of its own (engine.sh), unless one answers on its socket; stopped again at the end
#   2. stand-in base images built here (build-standins.sh): nothing can be pulled on this machine
#   3. `docker build` of the Dockerfile as it is, with NODE_IMAGE = the stand-in Node image
#   4. `docker-compose --profile system up --build` of docker-compose.yml as users run it, plus
#      compose.standins.yml (stand-in images, host network, ports moved); every healthcheck healthy
#   5. the README's order (POST /orders, then GET until completed) through the containers
#   6. `down` and `up` again: the order is still there (the volumes)
#   7. `--profile monitoring`: Prometheus reports every scrape target up (Grafana has no stand-in)
# Exits non-zero saying what failed; every wait has a deadline; prints the time of each phase.
# Needs root (dockerd, debootstrap, chroot), docker.io, docker-compose >= 1.28 and debootstrap.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
. "$here/engine.sh"
. "$here/standin-names.sh"

PROJECT=workshop-standin
export RABBITMQ_USER=workshop RABBITMQ_PASSWORD=standin-password # exercises RABBITMQ_DEFAULT_USER / _PASS
export STANDIN_PROMETHEUS_CONFIG=$WORKSHOP_CACHE/containers/prometheus.yml
ORDER_API=http://127.0.0.1:18080
PROMETHEUS=http://127.0.0.1:19090
SYSTEM=(rabbitmq order inventory payment shipping notification audit)
# The ports compose.standins.yml moves things to: each must be free before we start.
PORTS=(5680 15680 15690 4380 25680 18080 19101 19102 19103 19104 19105 19106 19090)

started=$SECONDS
phase_started=$SECONDS
phase_name=
declare -a timings=()
phase() {
  [ -z "$phase_name" ] || timings+=("$(printf '%-44s %5d s' "$phase_name" $((SECONDS - phase_started)))")
  phase_name=$1
  phase_started=$SECONDS
  [ -z "$1" ] || echo "== $1"
}
fail() { echo "test:containers FAILED: $*" >&2; exit 1; }

# What docker-compose runs: docker-compose.yml with compose.standins.yml over it, resolved by
# `docker-compose config` (absolute paths), less the services' `ports`: on the host's network they mean
# nothing, and docker-compose 1.29 refuses them there ("host" network_mode is incompatible with
# port_bindings), while an override can add to a list but not empty it. Written by the preflight.
COMPOSE_FILE_HOSTNET=$WORKSHOP_CACHE/containers/compose.hostnet.yml
compose() { docker-compose -p "$PROJECT" -f "$COMPOSE_FILE_HOSTNET" "$@"; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  phase ""
  if engine_answers; then
    echo "== cleanup: down -v"
    timeout 180 docker-compose -p "$PROJECT" -f "$COMPOSE_FILE_HOSTNET" --profile system --profile monitoring \
      down -v --remove-orphans >/dev/null 2>&1 || echo "cleanup: docker-compose down failed" >&2
  fi
  engine_stop || true
  echo "== times"
  printf '  %s\n' "${timings[@]}"
  printf '  %-44s %5d s\n' "total" $((SECONDS - started))
  [ $status = 0 ] && echo "test:containers: all checks passed" || echo "test:containers: FAILED (exit $status)"
  exit $status
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# The containers' state, as names and health, e.g. "order=healthy audit=starting" (one docker call:
# each docker-compose call takes seconds of Python start-up, over 20 s on a busy machine).
health_of() {
  local ids states name
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
  states=$([ -z "$ids" ] || docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}={{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' $ids 2>/dev/null)
  for name in "$@"; do
    grep -m1 "^$name=" <<<"$states" | tr '\n' ' ' | grep . || printf '%s=absent ' "$name"
  done
}

wait_healthy() { # wait_healthy <seconds> <service>...
  local deadline=$((SECONDS + $1)) state
  shift
  while :; do
    state=$(health_of "$@")
    if ! grep -qvE '=healthy$' <(tr ' ' '\n' <<<"$state" | grep .); then echo "   healthy: $*"; return 0; fi
    if [ $SECONDS -ge $deadline ]; then
      echo "   not healthy in time: $state" >&2
      for s in "$@"; do
        echo "--- the end of $s's log" >&2
        docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$s" |
          xargs -r -n1 docker logs --tail 15 >&2 2>&1 || true
      done
      return 1
    fi
    sleep 3
  done
}

phase "preflight"
[ "$(id -u)" = 0 ] || fail "run as root (it starts dockerd and runs debootstrap)"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "   apt-get install ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null ||
    fail "could not install ${missing[*]}"
fi
compose_version=$(docker-compose version --short)
printf '%s\n1.28.0\n' "$compose_version" | sort -V -C -r || fail "docker-compose $compose_version cannot read profiles (needs 1.28 or later)"
for port in "${PORTS[@]}"; do
  if ss -Hltn "sport = :$port" | grep -q .; then fail "port $port is in use: compose.standins.yml needs it free"; fi
done
# docker/prometheus/prometheus.yml with the moved ports: the services' metrics and the broker's plugin.
mkdir -p "$(dirname "$STANDIN_PROMETHEUS_CONFIG")"
sed -E 's/:910([1-6])\b/:1910\1/g; s/:15692\b/:15690/g' docker/prometheus/prometheus.yml >"$STANDIN_PROMETHEUS_CONFIG"
docker-compose -f docker-compose.yml -f "$here/compose.standins.yml" --profile system --profile monitoring config |
  python3 -c 'import sys, yaml
config = yaml.safe_load(sys.stdin)
for service in config["services"].values():
    service.pop("ports", None)
yaml.safe_dump(config, sys.stdout, sort_keys=False)' >"$COMPOSE_FILE_HOSTNET" || fail "docker-compose config of docker-compose.yml with compose.standins.yml failed"

phase "engine"
engine_start || fail "no Docker engine"

phase "stand-in images (build-standins.sh)"
bash "$here/build-standins.sh" all || fail "could not build the stand-in images"

phase "docker build of the Dockerfile"
docker build --force-rm --network host --build-arg "NODE_IMAGE=$STANDIN_NODE" -t rabbitmq-order-workshop:latest . >"$WORKSHOP_CACHE/containers/build-app.log" 2>&1 ||
  { tail -30 "$WORKSHOP_CACHE/containers/build-app.log" >&2; fail "docker build of the Dockerfile failed (log: $WORKSHOP_CACHE/containers/build-app.log)"; }
echo "   image: $(docker image inspect -f '{{.Size}}' rabbitmq-order-workshop:latest | awk '{printf "%d MB", $1 / 1e6}')"

phase "compose --profile system up --build: healthy"
compose --profile system --profile monitoring down -v --remove-orphans >/dev/null 2>&1 || true
compose --profile system up -d --build >"$WORKSHOP_CACHE/containers/compose-up.log" 2>&1 ||
  { tail -30 "$WORKSHOP_CACHE/containers/compose-up.log" >&2; fail "docker-compose --profile system up --build failed"; }
wait_healthy 300 "${SYSTEM[@]}" || fail "the system's healthchecks did not all pass within 300 s"

phase "an order through the containers"
order_id="containers-$(date +%s)"
node "$here/order-check.mjs" place "$ORDER_API" "$order_id" 180 || fail "the README's order did not complete through the containers"

phase "down, up: the order kept"
compose --profile system down >/dev/null 2>&1 || fail "docker-compose down failed"
compose --profile system up -d >>"$WORKSHOP_CACHE/containers/compose-up.log" 2>&1 || fail "docker-compose up (again) failed"
wait_healthy 300 "${SYSTEM[@]}" || fail "the system's healthchecks did not all pass within 300 s after down and up"
node "$here/order-check.mjs" kept "$ORDER_API" "$order_id" 60 || fail "the order was lost across down and up (volumes)"

phase "--profile monitoring: Prometheus targets up"
compose --profile system --profile monitoring up -d prometheus >>"$WORKSHOP_CACHE/containers/compose-up.log" 2>&1 || fail "docker-compose up prometheus failed"
node "$here/prometheus-check.mjs" "$PROMETHEUS" 120 || { compose logs --tail 20 prometheus >&2 || true; fail "Prometheus did not report every target up"; }
echo "   Grafana: not run (no Debian package, no stand-in); its dashboard is validated by the tests as before"
phase ""
