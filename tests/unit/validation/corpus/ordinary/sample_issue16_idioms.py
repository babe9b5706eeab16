"""The idioms issue 16 found refused: bt.__version__, str.format on a variable, the class name
through __class__, super(self.__class__, self)."""
import backtrader as bt

VERSION = tuple(int(x) for x in bt.__version__.split(".")[:2])
LINE = "{date} {name} close={close:.2f} (backtrader {version})"


class Base(bt.Strategy):
    def __init__(self):
        super().__init__()
        self.fmt = "{:>10} {:>8.2f}"


class Agent(Base):
    def __init__(self):
        super().__init__()
        self.sma = bt.ind.SMA(period=10)

    def start(self):
        super(self.__class__, self).start()  # the pyfolio sample's spelling; Agent is a leaf class

    def next(self):
        fmt = LINE
        print(fmt.format(date=self.data.datetime.date(0), name=self.__class__.__name__,
                         close=self.data.close[0], version=".".join(map(str, VERSION))))
        print(self.fmt.format(type(self).__name__, self.sma[0]))
        if self.data.close[0] > self.sma[0] and not self.position:
            self.buy()
        elif self.data.close[0] < self.sma[0] and self.position:
            self.close()
