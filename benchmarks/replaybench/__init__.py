"""The parts of benchmarks/replay.py: workloads, stages, measurement, profile, report."""
