#!/usr/bin/env bash
# Installs what building needs beyond the Rust toolchain: rustfmt and clippy
# (a minimal rustup profile lacks them) and protoc (LanceDB's build runs it).
# Idempotent: does nothing when they are already there.
set -euo pipefail

if ! { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
  echo "bootstrap: adding rustfmt and clippy with rustup" >&2
  rustup component add rustfmt clippy >&2
fi
if command -v protoc >/dev/null 2>&1; then
  exit 0
fi
echo "bootstrap: protoc not found; installing protobuf-compiler" >&2
if command -v apt-get >/dev/null 2>&1; then
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "bootstrap: need root or sudo to apt-get install protobuf-compiler" >&2; exit 1; }
    sudo_cmd="sudo"
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq protobuf-compiler >/dev/null
elif command -v brew >/dev/null 2>&1; then
  brew install protobuf
else
  echo "bootstrap: install protoc (protobuf compiler) with your package manager, then retry" >&2
  exit 1
fi
protoc --version >&2
