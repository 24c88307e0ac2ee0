# Sourced by scripts/containers/*.sh: a Docker engine of the workshop's own, started only when none
# answers on its socket and stopped again by the one who started it (engine_stop, from an EXIT trap).
# Its data root lives outside the clone, so images built once survive between runs. No bridge and no
# iptables: every container runs on the host's network and talks to 127.0.0.1 only.
#   WORKSHOP_CACHE   (default ${XDG_CACHE_HOME:-$HOME/.cache}/rabbitmq-order-workshop)
#   WORKSHOP_DOCKER_HOST  an engine to use instead (e.g. unix:///var/run/docker.sock): never started or stopped here

WORKSHOP_CACHE=${WORKSHOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rabbitmq-order-workshop}
ENGINE_EXEC_ROOT=/run/workshop-docker
ENGINE_SOCKET=$ENGINE_EXEC_ROOT/docker.sock
ENGINE_PIDFILE=$ENGINE_EXEC_ROOT/dockerd.pid
ENGINE_LOG=$WORKSHOP_CACHE/dockerd.log
ENGINE_STARTED_HERE=
export DOCKER_HOST=${WORKSHOP_DOCKER_HOST:-unix://$ENGINE_SOCKET}
# The classic builder: BuildKit would fetch the Dockerfile's `# syntax=` frontend image, and nothing can be pulled here.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

engine_answers() { timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

engine_start() {
  if engine_answers; then echo "engine: using the engine already answering at $DOCKER_HOST"; return 0; fi
  [ -z "${WORKSHOP_DOCKER_HOST:-}" ] || { echo "engine: nothing answers at WORKSHOP_DOCKER_HOST=$WORKSHOP_DOCKER_HOST" >&2; return 1; }
  [ "$(id -u)" = 0 ] || { echo "engine: starting a Docker engine needs root" >&2; return 1; }
  command -v dockerd >/dev/null || { echo "engine: dockerd is not installed (apt-get install docker.io)" >&2; return 1; }
  mkdir -p "$WORKSHOP_CACHE/docker" "$ENGINE_EXEC_ROOT"
  # A pidfile left by an engine that died would stop the new one from starting.
  if [ -f "$ENGINE_PIDFILE" ] && ! kill -0 "$(cat "$ENGINE_PIDFILE")" 2>/dev/null; then rm -f "$ENGINE_PIDFILE"; fi
  # Its own containerd namespace: no clash with another engine sharing the machine's containerd.
  setsid dockerd --data-root "$WORKSHOP_CACHE/docker" --exec-root "$ENGINE_EXEC_ROOT" --pidfile "$ENGINE_PIDFILE" \
    -H "unix://$ENGINE_SOCKET" --bridge=none --iptables=false --ip6tables=false \
    --containerd-namespace workshop --containerd-plugins-namespace workshop-plugins >"$ENGINE_LOG" 2>&1 </dev/null &
  ENGINE_STARTED_HERE=$!
  local deadline=$((SECONDS + 90))
  until engine_answers; do
    if ! kill -0 "$ENGINE_STARTED_HERE" 2>/dev/null; then
      echo "engine: dockerd exited while starting; the end of $ENGINE_LOG:" >&2; tail -15 "$ENGINE_LOG" >&2; ENGINE_STARTED_HERE=; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then echo "engine: dockerd did not answer within 90 s (log: $ENGINE_LOG)" >&2; return 1; fi
    sleep 1
  done
  echo "engine: started dockerd (pid $ENGINE_STARTED_HERE, data root $WORKSHOP_CACHE/docker)"
}

engine_stop() {
  [ -n "$ENGINE_STARTED_HERE" ] || return 0
  local pid=$ENGINE_STARTED_HERE deadline=$((SECONDS + 60))
  ENGINE_STARTED_HERE=
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "engine: dockerd still running after 60 s: killing it" >&2; kill -KILL "$pid" 2>/dev/null; break; fi
    sleep 1
  done
  echo "engine: stopped dockerd (pid $pid)"
}
