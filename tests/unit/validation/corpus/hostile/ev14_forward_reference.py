# expect: string_annotation
import functools

import backtrader as bt


@functools.singledispatch
def handle(value):
    return value


@handle.register
def _(value: "__import__(\"os\").system(\"id\")"):
    return value


class Agent(bt.Strategy):
    pass
