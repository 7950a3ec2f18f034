"""Compare two versions' outputs: which keys differ, by how much, and which are not final yet."""

from kappanb.compare.diff import Diff
from kappanb.compare.finalised import diff_outputs, split_finalised, time_key
from kappanb.compare.matching import diff_frames

__all__ = ["Diff", "diff_frames", "diff_outputs", "split_finalised", "time_key"]
