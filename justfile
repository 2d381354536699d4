# Developer recipes; each wraps a script that also works without `just`.

# Install build prerequisites, build, fetch and verify the runtime and model.
setup:
    scripts/bootstrap.sh
    cargo build --bin mcp-vector-search
    cargo run --quiet --bin mcp-vector-search -- setup

# Index this repository and search it.
demo query="fuse vector and keyword search results by reciprocal rank":
    scripts/demo.sh "{{query}}"

# The whole suite (what CI runs).
test:
    scripts/test.sh

# Formatting and lints.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The binary handed out in release archives (fat LTO; needs ~20 GB of memory):
# target/dist/mcp-vector-search.
dist:
    cargo build --profile dist --locked --bin mcp-vector-search

# Index this repository with a release build and record the numbers.
bench:
    scripts/bench.sh
