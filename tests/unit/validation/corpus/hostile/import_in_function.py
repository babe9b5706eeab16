# expect: forbidden_import
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        import subprocess
        subprocess.run(['id'])
