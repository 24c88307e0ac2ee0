#!/bin/sh
# The stand-in broker's entrypoint: the official image's environment variables become config, then
# the node runs in the foreground as PID 1's child-free exec (docker stop's SIGTERM reaches it).
set -eu
if [ -n "${RABBITMQ_DEFAULT_USER:-}${RABBITMQ_DEFAULT_PASS:-}" ]; then
  printf 'default_user = %s\ndefault_pass = %s\n' "${RABBITMQ_DEFAULT_USER:-guest}" "${RABBITMQ_DEFAULT_PASS:-guest}" \
    > /etc/rabbitmq/conf.d/10-defaults.conf
fi
if [ -n "${RABBITMQ_ERLANG_COOKIE:-}" ]; then
  umask 077
  printf '%s' "$RABBITMQ_ERLANG_COOKIE" > "$HOME/.erlang.cookie"
fi
exec "$@"
