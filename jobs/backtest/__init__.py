"""The backtest job: `python -m jobs.backtest --run-id RUN [--phase all|prepare|execute|finish]`."""
