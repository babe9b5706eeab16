"""Subcommands of the `farm` command line, one module each.

Each module defines `register(subparsers)`, which adds its parser and sets `func=run`, where
`run(args) -> int` is the exit code. Add a command by adding its module name to `COMMANDS`.
Modules import heavy things inside `run`, so `farm --help` and `farm up` start fast.
"""

COMMANDS: tuple[str, ...] = (
    "farm.commands.up",
    "farm.commands.functions",
    "farm.commands.demo",
    "farm.commands.token",
    "farm.commands.replay",
    "farm.commands.data",
    "farm.commands.backtest",
    "farm.commands.infra",
    "farm.commands.leaderboard",
    "farm.commands.explain",
    "farm.commands.submit",
    "farm.commands.cloud",
    "farm.commands.trade",
    "farm.commands.reconcile",
)
