#!/usr/bin/env bash
# Mutation-test micrograd/engine.py against the engine's property tests.  Not part of the test suite.
#
#   tests/mutation/run_mutmut.sh [workdir]      # default workdir: /tmp/micrograd-mutmut  (~20-30 min, 2 cores)
#
# mutmut 3 mutates a copy of the project in ./mutants and reads its config from pyproject.toml,
# so this script runs it in a scratch copy whose pyproject.toml holds only the [tool.mutmut] table
# below; the working tree is never touched.  Tests that already fail on the unmutated engine (open
# engine bugs) are deselected, since mutmut needs a green baseline; they are listed first.
# Prints mutmut's counts, every surviving mutant, and the score (killed / total).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-/tmp/micrograd-mutmut}"
tests=(tests/test_engine_properties.py tests/test_custom_primitive.py tests/test_testing.py tests/test_neurons.py)

rm -rf "$work"
mkdir -p "$work/tests"
cp -r "$repo/micrograd" "$work/"
find "$work/micrograd" -name __pycache__ -prune -exec rm -rf {} +
cp "$repo/tests/conftest.py" "${tests[@]/#/$repo/}" "$work/tests/"
cd "$work"

echo "== baseline"
failing=$(python -m pytest -p no:cacheprovider -q -rf "${tests[@]}" 2>/dev/null | sed -n 's/^FAILED \([^ ]*\).*/\1/p' || true)
deselect=""
for t in $failing; do
    echo "   failing before mutation, deselected: $t"
    deselect+="\"--deselect\", \"$t\", "
done

cat > pyproject.toml <<TOML
[tool.mutmut]
source_paths = ["micrograd/"]
only_mutate = ["micrograd/engine.py"]
pytest_add_cli_args_test_selection = ["tests/test_engine_properties.py", "tests/test_custom_primitive.py", "tests/test_testing.py", "tests/test_neurons.py"]
pytest_add_cli_args = [${deselect}"-p", "no:cacheprovider", "-q", "-x"]
process_isolation = "forkserver"   # the tests import torch, which is not fork-safe
# import the engine afresh in every mutant's process: the primitive table is built at import time (by
# _checked and friends), so with a pre-imported engine those mutants could never be active
forkserver_warmup = "none"
TOML

echo "== mutmut run (progress in $work/run.log)"
mutmut run --max-children "$(nproc)" > run.log 2>&1 || { tail -c 3000 run.log; exit 1; }
mutmut results --all true > results.txt

# mutmut runs, for each mutant, only the tests that called the mutated function while it collected its
# stats.  Functions that run at import time (_checked, Primitive.__init__: they build the primitive table)
# get attributed to whichever test happened to import the engine, so their mutants look alive.  Ground
# truth for every mutant mutmut did not see killed: the whole selection, run against that mutant.
echo "== re-running the whole selection against each mutant mutmut did not see killed"
grep -v ": killed$" results.txt | sed 's/: .*//; s/^ *//' > not_killed.txt || true
deselect_args=()
for t in $failing; do deselect_args+=(--deselect "$t"); done
export DESELECT="${deselect_args[*]:-}" TESTS="${tests[*]}"
(cd mutants && xargs -P "$(nproc)" -I{} sh -c \
    'MUTANT_UNDER_TEST="{}" timeout 900 python -m pytest -p no:cacheprovider -q -x $DESELECT $TESTS \
     >/dev/null 2>&1; echo "$? {}"' < ../not_killed.txt > ../rerun.txt)

python - <<'PY'
import collections, pathlib
rows = [line.strip().rsplit(": ", 1) for line in pathlib.Path("results.txt").read_text().splitlines() if ": " in line]
rerun = dict(reversed(line.split(" ", 1)) for line in pathlib.Path("rerun.txt").read_text().splitlines())
status = collections.Counter(s for _, s in rows)
print("== mutmut counts:", dict(status))
print("== not killed by mutmut's per-function test selection (rc of the whole selection: 1 = killed):")
for name, s in rows:
    if s != "killed":
        print(f"   {s:10} rc={rerun.get(name, '?')}  {name}")
total = len(rows)
killed = status.get("killed", 0)
verified = killed + sum(1 for name, s in rows if s != "killed" and rerun.get(name) not in (None, "0"))
print(f"== mutation score, mutmut's report: {killed}/{total} killed = {killed / total:.1%}")
print(f"== mutation score, survivors re-run against the whole selection: {verified}/{total} = {verified / total:.1%}")
print("   (inspect a survivor with: cd $work && mutmut show NAME)")
PY
