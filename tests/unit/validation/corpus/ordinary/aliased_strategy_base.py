from backtrader import Strategy as S
import backtrader.indicators as btind


class Base(S):
    def log(self, text):
        print(f"{self.datetime.date(0)} {text}")


class Agent(Base):
    def __init__(self):
        self.macd = btind.MACD(self.data)

    def next(self):
        if self.macd.macd[0] > self.macd.signal[0] and not self.position:
            self.log("buy")
            self.buy()
        elif self.macd.macd[0] < self.macd.signal[0] and self.position:
            self.log("sell")
            self.close()
