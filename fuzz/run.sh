#!/usr/bin/env bash
# make fuzz: runs each cargo-fuzz target for FUZZ_SECONDS (default 60) from the seed corpus in
# fuzz/corpus/<target> (new inputs go to a scratch copy, so the tree stays clean). A crash
# fails the run and is left in fuzz/artifacts/<target>/: turn it into a regression test next
# to the code it broke (the proptests in crates/media-store/src/probe.rs and
# crates/platform-adapters/src/validate.rs), then fix it.
#
# cargo-fuzz needs a nightly toolchain (it builds with -Zsanitizer=address); this script
# installs cargo-fuzz from crates.io when missing, but cannot install a toolchain.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=(media_probe text_counters)

log() { printf '[fuzz] %s\n' "$*" >&2; }

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    log "cargo-fuzz needs a nightly Rust toolchain and none is installed: rustup toolchain install nightly"
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
failed=0
for target in "${TARGETS[@]}"; do
    scratch=$(mktemp -d)
    log "$target: ${SECONDS_PER_TARGET} s"
    if ! cargo +nightly fuzz run "$target" "$scratch" "fuzz/corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -max_len=65536 >"$scratch.log" 2>&1; then
        failed=1
        tail -n 40 "$scratch.log" >&2
        log "$target: FAILED; the input is in fuzz/artifacts/$target/"
    else
        log "$target: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$scratch.log" | tail -n 1)"
    fi
    rm -rf "$scratch" "$scratch.log"
done
exit "$failed"
