#!/usr/bin/env bash
# Checks deploy/systemd/tm-agent.service with `systemd-analyze verify` against a real tm-agent.
# verify refuses an ExecStart whose program does not exist, and this machine has no
# /usr/bin/tm-agent, so: the agent's tarball (npm run pack:agent) is installed as docs/agents.md
# says, into a temporary prefix instead of /usr; a copy of the unit has its ExecStart pointed at
# the tm-agent that install made, and nothing else changed; and that copy is verified.
# Exit 0: verified; 1: it failed; 2: systemd-analyze is not on this machine (checked nothing).
set -euo pipefail
cd "$(dirname "$0")/../.."
unit=deploy/systemd/tm-agent.service

command -v systemd-analyze >/dev/null 2>&1 || exit 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

npm run --silent pack:agent >/dev/null
tarball=$(ls -t packages/tm-agent/tm-agent-*.tgz | head -n 1)
npm install --global --prefix "$root/usr" --no-audit --no-fund "./$tarball" >/dev/null
agent="$root/usr/bin/tm-agent"
"$agent" --help >/dev/null
echo "installed $tarball: $agent runs"

sed "s#^ExecStart=/usr/bin/tm-agent #ExecStart=$agent #" "$unit" >"$root/tm-agent.service"
# The copy differs from the unit in ExecStart's program alone.
changed=$(diff "$unit" "$root/tm-agent.service" | grep -c '^[<>]' || true)
[ "$changed" = 2 ] || { echo "ExecStart=/usr/bin/tm-agent … not found in $unit"; exit 1; }
# verify exits 0 on a line it cannot parse, which systemd would then ignore: any word from it fails.
said=$(systemd-analyze verify "$root/tm-agent.service" 2>&1) || { echo "$said"; exit 1; }
[ -z "$said" ] || { echo "$said"; exit 1; }
echo "systemd-analyze verify: $unit is valid (ExecStart=$agent)"
