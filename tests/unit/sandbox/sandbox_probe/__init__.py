"""A hostile probe the sandbox tests run inside: `python -m sandbox_probe ACTION ARG...`."""
