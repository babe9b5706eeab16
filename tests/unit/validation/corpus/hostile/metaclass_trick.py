# expect: metaclass dunder_attribute
import backtrader as bt


class Meta(type):
    def __new__(mcs, name, bases, ns):
        return super().__new__(mcs, name, bases, ns)


class Agent(bt.Strategy, metaclass=Meta):
    pass
