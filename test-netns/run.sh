#!/usr/bin/env bash
# npm run test:netns: the tests that build hosts out of network namespaces (ip netns, veth). They need root (the
# namespaces are made with `ip netns add`); as another user, the run is retried under `sudo -n` and fails with a
# message, rather than skipping, when that is not possible.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in ip turnutils_uclient; do
  command -v "$t" >/dev/null || { echo "test:netns: $t is missing (apt-get install iproute2 coturn-utils)" >&2; exit 1; }
done
if [[ $(id -u) != 0 ]]; then
  sudo -n true 2>/dev/null || { echo "test:netns: needs root (ip netns add); run as root or with passwordless sudo" >&2; exit 1; }
  exec sudo -n --preserve-env=PATH "$0" "$@"
fi
NODE=$(bin/node.sh -e 'process.stdout.write(process.execPath)')
exec "$NODE" --test --test-concurrency=1 --test-timeout=300000 'test-netns/**/*.test.ts'
