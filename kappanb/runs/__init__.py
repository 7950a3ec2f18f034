"""Runs of job versions on Flink, their control, and what is shown of them.

`runs` starts, stops and reconciles one run (the statement set, savepoints); `control`
holds the steps behind `Workbench`'s run methods (checks first, task slots from
`slots`, watches); `lifecycle` suspends runs at `down` and resumes them at `up`;
`run_metrics` and `run_holds` are a run's figures and held watermarks for `status`;
`report` is the handle `run`/`replay` return and the status table; `overview` is
the Kappa panel's picture of the stack, the jobs and their runs.
"""
