#!/bin/sh
# Remake every profile in bench/profiles/ (see README.md there). From the repository root:
#   sh bench/profiles/make.sh            # about 3 minutes
#   sh bench/profiles/make.sh report     # only rewrite the *.layers.md reports
# Each scenario: one unprofiled run (its CPU µs/req goes in <name>.cpu), a run timing only
# the socket/TLS calls (<name>.io.json), a cProfile run
# (<name>.pstats + .json), and two py-spy runs (<name>.svg flame graph, <name>.raw collapsed
# stacks with full file names, for the layer report, gzipped), then the layer report
# (<name>.layers.md).
set -eu
PY=.venv/bin/python
SPY=.venv/bin/py-spy
OUT=bench/profiles
N=30000
report() {
    name=$1
    scenario=$2
    us=$(sed -n 's/.* \([0-9.]*\) CPU µs\/req/\1/p' "$OUT/$name.cpu")
    {
        echo "# $name ($scenario): where the CPU of one request goes"
        echo
        $PY -m bench.profiling --combined "$OUT/$name.io.json" "$OUT/$name.raw.gz" --measured-us "$us"
        echo
        echo "## cProfile (CPU-time timer), self time by layer"
        echo
        $PY -m bench.profiling --layers "$OUT/$name.pstats"
        echo
        echo "## py-spy samples by layer (leaf frame)"
        echo
        $PY -m bench.profiling --sampled "$OUT/$name.raw.gz"
    } >"$OUT/$name.layers.md"
}

if [ "${1:-}" = report ]; then
    # Only rewrite the <name>.layers.md reports from the saved profiles (no measuring).
    for pair in s1:seq_small s5:tls_small s3:async_100; do
        report "${pair%%:*}" "${pair#*:}"
    done
    exit 0
fi

for pair in s1:seq_small s5:tls_small s3:async_100; do
    name=${pair%%:*}
    scenario=${pair#*:}
    $PY -m bench.profiling --scenario "$scenario" --n $N 2>"$OUT/$name.cpu"
    $PY -m bench.profiling --scenario "$scenario" --n $N --io-times "$OUT/$name.io.json"
    $PY -m bench.profiling --scenario "$scenario" --n $N --cprofile "$OUT/$name.pstats"
    $SPY record -r 997 -o "$OUT/$name.svg" -- \
        $PY -m bench.profiling --scenario "$scenario" --n $N --split-cpus
    $SPY record -r 997 --full-filenames -f raw -o "$OUT/$name.raw" -- \
        $PY -m bench.profiling --scenario "$scenario" --n $N --split-cpus
    gzip -f "$OUT/$name.raw"
    report "$name" "$scenario"
done
