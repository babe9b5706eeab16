# expect: forbidden_io
import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    def stop(self):
        pd.DataFrame({"a": [1]}).to_csv("/work/other-user/bundle.zip")
