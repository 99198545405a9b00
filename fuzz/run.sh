#!/usr/bin/env bash
# Builds every fuzz target and runs each for a while: `fuzz/run.sh [SECONDS] [TARGET...]`.
#
# SECONDS (default 20) is per target. Without TARGET names it runs every target `cargo fuzz list`
# knows, i.e. every `[[bin]]` of fuzz/Cargo.toml. The corpus in fuzz/corpus/<target>/ is only read:
# new inputs go to a temporary directory, so a run never changes the repository. Exits non-zero if
# a target crashes, times out or runs out of memory, naming the input that did it.
#
# Environment: FUZZ_SANITIZER (default `address`; `none` where AddressSanitizer is unavailable),
# FUZZ_BUILD (default `release`; `dev` builds in a third of the time and runs several times slower:
# what test.sh uses to check that every target builds and runs),
# FUZZ_ARGS (extra libFuzzer options, e.g. `-max_len=65536`), KEEP_CORPUS=1 to keep the new inputs.
set -euo pipefail

seconds=${1:-20}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
shift $(($# > 0 ? 1 : 0))
cd "$(dirname "$0")"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
# cargo fuzz passes nightly-only flags (-Zsanitizer, -Cpasses=sancov-module); on a stable or beta
# toolchain RUSTC_BOOTSTRAP=1 lets the compiler accept them.
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi
sanitizer=${FUZZ_SANITIZER:-address}
# -O: dependencies are built as the server ships them; Cargo.toml turns debug assertions and
# overflow checks back on for our own crates.
case ${FUZZ_BUILD:-release} in
    release) build=(-O --sanitizer "$sanitizer") ;;
    dev) build=(--dev --sanitizer "$sanitizer") ;;
    *) echo "FUZZ_BUILD must be release or dev" >&2; exit 2 ;;
esac

# A target file without a `[[bin]]` entry would silently never run.
listed=$(cargo fuzz list)
for file in fuzz_targets/*.rs; do
    name=$(basename "$file" .rs)
    if ! grep -qx "$name" <<<"$listed"; then
        echo "error: $file has no [[bin]] entry named \"$name\" in fuzz/Cargo.toml" >&2
        exit 1
    fi
done
targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets <<<"$listed"
fi

echo "== building ${targets[*]} ($(rustc --version), sanitizer $sanitizer)"
cargo fuzz build "${build[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/waymark-fuzz.XXXXXX")
keep=${KEEP_CORPUS:-0}
trap '[[ $keep == 1 ]] || rm -rf "$work"' EXIT
failed=()
for target in "${targets[@]}"; do
    mkdir -p "$work/new/$target" "$work/artifacts/$target"
    # The first directory receives new inputs; the repository's corpus is only read.
    dirs=("$work/new/$target")
    [[ -d corpus/$target ]] && dirs+=("corpus/$target")
    log="$work/$target.log"
    echo "== fuzzing $target for ${seconds}s"
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
    if (
        # Without ASan's allocation cap (see decode.rs), a limit on the address space makes large
        # reservations fail instead, as they do on a machine with less memory.
        if [[ $sanitizer == none ]]; then ulimit -v $((8 << 20)); fi
        cargo fuzz run "${build[@]}" "$target" "${dirs[@]}" -- \
            -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$work/artifacts/$target/" ${FUZZ_ARGS:-}
    ) >"$log" 2>&1; then
        grep -E '^#[0-9]+' "$log" | tail -n 1 || true
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
    else
        # From the first report of the failure (a panic, a sanitizer or libFuzzer error) on.
        first=$(grep -n -m 1 -E 'panicked at|ERROR: libFuzzer|==[0-9]+==ERROR' "$log" | cut -d: -f1 || true)
        if [[ -n $first ]]; then
            sed -n "${first},$((first + 40))p" "$log"
        else
            tail -n 40 "$log"
        fi
        echo "(whole log: $log)"
        keep=1
        found=("$work/artifacts/$target/"*)
        if [[ -e ${found[0]} ]]; then
            failed+=("${found[@]}")
        else
            failed+=("$target failed without writing an input: see $log")
        fi
    fi
done

if ((${#failed[@]} > 0)); then
    echo "== FAILED; reproduce with: cd fuzz && ${RUSTC_BOOTSTRAP:+RUSTC_BOOTSTRAP=1 }cargo fuzz run ${build[*]} TARGET INPUT" >&2
    printf '   %s\n' "${failed[@]}" >&2
    exit 1
fi
if [[ $keep == 1 ]]; then
    echo "== new inputs kept in $work/new"
fi
echo "== every target ran ${seconds}s without a failure"
