# expect: forbidden_io
import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    def stop(self):
        frame = pd.DataFrame({"a": [1]})
        frame.to_json(path_or_buf="/tmp/out.json")
        writer = frame.to_string
        writer("/tmp/out.txt")
