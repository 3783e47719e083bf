#!/usr/bin/env bash
# Runs a command in a network namespace of its own, where loopback is the only interface: whatever the command
# binds, even on every interface (upstream stunnerd binds its listeners and relays to all of them), is reachable
# from nowhere else. Needs unshare(1) (util-linux) and ip(8) (iproute2); as a non-root user, user namespaces.
# Fails, rather than running outside a namespace, when one cannot be made.
# Usage: bash .ci/netns.sh COMMAND [ARG...]
set -euo pipefail
if [[ ${STUNNER_IN_NETNS:-} == 1 ]]; then exec "$@"; fi
for t in unshare ip; do
  command -v "$t" >/dev/null || { echo "netns: $t is missing (apt-get install util-linux iproute2)" >&2; exit 1; }
done
opts=(--net)
[[ $(id -u) == 0 ]] || opts+=(--map-root-user)
# Besides loopback, a veth pair whose both ends stay in the namespace, one with a documentation address: WebRTC
# stacks (Chromium) gather no candidates at all on a host whose only interface is loopback. It leads nowhere.
exec unshare "${opts[@]}" -- env STUNNER_IN_NETNS=1 bash -c '
  ip link set lo up &&
  ip link add stunner0 type veth peer name stunner1 && ip addr add 192.0.2.1/24 dev stunner0 &&
  ip link set stunner1 up && ip link set stunner0 up &&
  exec "$@"' netns "$@"
