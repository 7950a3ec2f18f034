"""Benchmarks of kappanb: each script measures against a baseline in the same run."""
