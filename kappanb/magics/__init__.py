"""The `%kappa` / `%%kappa` magics: parse the line, route to one handler, show the result."""
