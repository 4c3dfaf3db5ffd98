#!/usr/bin/env bash
# Runs the Autobahn testsuite against this library with the official docker
# image, crossbario/autobahn-testsuite, where docker works.
#
#   testdata/autobahn/run.sh server   # fuzzingclient -> examples/echo (server role)
#   testdata/autobahn/run.sh client   # examples/autobahnclient -> fuzzingserver (client role)
#
# Reports land in testdata/autobahn/reports/{server,client}/index.html.
# Every case runs, compression (12.*, 13.*) included.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
image=crossbario/autobahn-testsuite
mode=${1:-server}
cd "$root"
mkdir -p "$here/reports"

case "$mode" in
server)
	go build -o "$here/reports/echo" ./examples/echo
	"$here/reports/echo" -addr 0.0.0.0:9001 &
	echo_pid=$!
	trap 'kill "$echo_pid"' EXIT
	docker run --rm --add-host=host.docker.internal:host-gateway \
		-v "$here:/config" -v "$here/reports:/reports" -w / \
		"$image" wstest -m fuzzingclient -s /config/fuzzingclient.json
	;;
client)
	docker run -d --rm --name autobahn-fuzzingserver -p 9001:9001 \
		-v "$here:/config" -v "$here/reports:/reports" -w / \
		"$image" wstest -m fuzzingserver -s /config/fuzzingserver.json
	trap 'docker stop autobahn-fuzzingserver >/dev/null' EXIT
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/9001) 2>/dev/null && break; sleep 0.2; done
	go run ./examples/autobahnclient -url ws://127.0.0.1:9001
	;;
*)
	echo "usage: $0 server|client" >&2
	exit 2
	;;
esac
