"""The bottom of kappanb: pure helpers every other package may use.

Names and their quoting (`names`), column declarations (`schema`), splitting and
comparing SQL text (`sqltext`), where a run reads the log (`positions`) and durations
in words (`durations`). Nothing here does I/O or imports another kappanb package
than `kappanb.exceptions`; `tests/test_import_layers.py` keeps it so.
"""
