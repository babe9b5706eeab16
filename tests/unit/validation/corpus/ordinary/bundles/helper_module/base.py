import backtrader as bt


class LoggingStrategy(bt.Strategy):
    def log(self, text):
        print(f"{self.data.datetime.date(0)}: {text}")
