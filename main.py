"""Deployment entry: re-exports every function's entry point listed in the registry.

`gcloud functions deploy NAME --gen2 --source=. --entry-point=EP ...` loads this file from the
repository root; functions-framework then looks `EP` up here.
"""

from __future__ import annotations

from importlib import import_module

from functions.registry import FUNCTIONS

for _spec in FUNCTIONS:
    globals()[_spec.entry_point] = getattr(import_module(_spec.module), _spec.entry_point)

__all__ = [spec.entry_point for spec in FUNCTIONS]
