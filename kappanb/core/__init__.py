"""The bottom of kappanb: pure helpers every other package may use.

Names and their quoting (`names`), column declarations (`schema`), splitting and
comparing SQL text (`sqltext`), where a run reads the log (`positions`), durations
in words (`durations`) and secrets that never show (`secrets`). Nothing here does I/O
(but `secrets.secret_from` reading a secret's file) or imports another kappanb package
than `kappanb.exceptions`; `tests/test_import_layers.py` keeps it so.
"""
