"""Hypothesis profiles: deterministic in CI (the default), random with HYPOTHESIS_PROFILE=dev."""

import os

from hypothesis import settings

# derandomize: the same examples on every run, so CI never flakes on a newly found input.
# deadline=None: graphs built under create_graph vary a lot in cost; timing is not under test.
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
# dev: random examples and the example database, to hunt for new counterexamples locally.
settings.register_profile("dev", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
