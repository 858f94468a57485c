#!/bin/bash
# Entrypoint of the lab's PostgreSQL image. It behaves like the official postgres image where it
# matters to socket failures: it prepares /var/run/postgresql, takes ownership of the data
# directory as root (and fails the way the official image does when the share refuses chown),
# initialises on first start through a socket-only temporary server, creates the application role
# and database, and runs the server as postgres with -c options passed through.
# `backend` runs the lab backend instead.
set -Eeo pipefail

if [ "${1:-}" = "backend" ]; then
	shift
	exec python3 -u /lab/backend.py "$@"
fi
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi
if [ "$1" != "postgres" ]; then
	exec "$@"
fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chmod 00700 "$PGDATA" || :
	chmod 03775 /var/run/postgresql || :
	# As in the official image: a data directory that cannot be chowned ends the start here.
	find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
	find /var/run/postgresql \! -user postgres -exec chown postgres '{}' + || :
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	initdb --username=postgres --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
	# The temporary server listens on the socket only, like the official image's, with the
	# command's own options (after the word "postgres"). Its log goes to the container's.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432 ${*:2}" -w -t 30 start
	user="${POSTGRES_USER:-postgres}"
	db="${POSTGRES_DB:-$user}"
	if [ "$user" != postgres ]; then
		psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres \
			-c "CREATE ROLE \"$user\" LOGIN SUPERUSER PASSWORD '${POSTGRES_PASSWORD:-lab}'"
	fi
	if [ "$db" != postgres ]; then
		psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$user\""
	fi
	pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	echo "lab entrypoint: initialised $PGDATA for $user/$db"
fi

exec "$@"
