#!/usr/bin/env bash
# Checks, and where it can installs, what `make tools` needs on a fresh Debian machine:
# Go 1.26 (not installed here: it is the machine's toolchain), git, curl, the OpenSSH client (the Azure
# DevOps emulator's tests drive git over SSH), Node 18+ and npm.
set -euo pipefail

need_apt=()
command -v git >/dev/null || need_apt+=(git)
command -v ssh >/dev/null || need_apt+=(openssh-client)
command -v curl >/dev/null || need_apt+=(curl)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
command -v make >/dev/null || need_apt+=(make)
if ((${#need_apt[@]})); then
	echo "setup: installing ${need_apt[*]} with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

if ! command -v go >/dev/null; then
	echo "setup: Go 1.26 is required and not on PATH" >&2
	exit 1
fi
go_version=$(go env GOVERSION)
case "$go_version" in
go1.26*) ;;
*) echo "setup: Go 1.26 is required, found $go_version" >&2; exit 1 ;;
esac

# Azurite 3.35.0 (hack/azurite) declares "engines": {"node": ">=10.0.0"}; some of the
# dependencies its lock file pins declare >=18 or >=20, which npm reports as EBADENGINE warnings
# only. Its Blob service was verified on Debian 12's Node 18.20.4 (the version apt installs there)
# and on Node 20. Older Node versions are refused here rather than failing later inside Azurite.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 18)); then
	echo "setup: Node 18 or newer is required for Azurite 3.35, found $(node --version)" >&2
	exit 1
fi
