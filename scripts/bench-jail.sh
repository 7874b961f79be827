#!/usr/bin/env bash
# Cold `airlock jail -- /bin/true` against bubblewrap (one hyperfine run,
# medians and their ratio; target: airlock <= 0.35x bubblewrap), the same
# interleaved with an empty Go program and /bin/true (the floors), then the
# in-process benchmarks: one jailed /bin/true, and a SANDBOX_PROCESS Node
# step against bare node (target: <= 3 ms added).
#
# Uses ../shared/peers/bench-jail.sh when present (the project's reference
# harness), else the same hyperfine command here. Needs hyperfine and
# bubblewrap (installed with apt-get when missing, as the reference does).
set -euo pipefail
cd "$(dirname "$0")/.."
# A static binary: no dynamic loader at start-up (about 1 ms here).
CGO_ENABLED=0 go build -trimpath -o bin/airlock ./cmd/airlock
cmd='./bin/airlock jail -- /bin/true'
bw='bwrap --unshare-all --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --new-session --die-with-parent /bin/true'
if [[ -x ../shared/peers/bench-jail.sh || -f ../shared/peers/bench-jail.sh ]]; then
	bash ../shared/peers/bench-jail.sh "$cmd"
else
	command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }
	command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
	out=$(mktemp)
	hyperfine -N --warmup 10 --runs 200 --export-json "$out" "$bw" "$cmd" >/dev/null
	python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, a = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"bubblewrap median {b:.2f} ms; airlock median {a:.2f} ms; ratio airlock/bwrap {a/b:.3f}")
PY
	rm -f "$out"
fi
# Interleaved rounds (each round runs every command once), so load drift on
# a shared machine hits all alike; shows the floor any Go front end pays.
CGO_ENABLED=0 go build -o bin/hello-go ./scripts/hello
python3 - "$bw" "$cmd" './bin/airlock help' ./bin/hello-go /bin/true <<'PY'
import shlex, statistics, subprocess, sys, time
cmds = sys.argv[1:]
runs = [[] for _ in cmds]
for r in range(155):
    for i, c in enumerate(cmds):
        t = time.perf_counter()
        subprocess.run(shlex.split(c), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r >= 5:
            runs[i].append(time.perf_counter() - t)
base = statistics.median(runs[0])
for c, rs in zip(cmds, runs):
    m = statistics.median(rs)
    print(f"{m*1000:7.2f} ms {m/base:5.2f}x  {c[:60]}")
PY
go test -run '^$' -bench 'RunTrue|ExecTrue' -benchtime 200x ./internal/jail
go test -run '^$' -bench 'NodeOverhead' -benchtime 40x ./internal/procstep
