"""Domain types and rules: plain dataclasses and functions, no I/O."""
