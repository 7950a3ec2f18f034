"""ipywidgets views of kappanb objects. They arrange and refresh; they do no I/O."""
