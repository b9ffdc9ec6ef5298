#!/usr/bin/env bash
# The standalone binary (bun build --compile) serves a short session and stops on SIGTERM.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash scripts/smoke_binary.sh
