"""Which version readers get, and how two versions' outputs differ before switching.

`serving` keeps a job's serving alias (promote, rollback, history, retire);
`comparing` reads two versions' output tables for `diff` and compares what both have
finalised (with `kappanb.compare`).
"""
