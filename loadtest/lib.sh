# Shell helpers shared by the load-test scripts (sourced, not run).

# Prints a free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (up to 30 s) until something listens on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# Flags for every Waymark node under load: the generator is one client address standing in for
# thousands of users, so the per-address and per-connection limits meant for real clients are
# lifted (the limits themselves are measured by server/tests/limits.rs, not here).
WAYMARK_LOAD_FLAGS=(--max-connections 1000000 --max-connections-per-address 1000000
  --message-rate 1000000 --byte-rate 1GiB --awareness-rate 1000000)
