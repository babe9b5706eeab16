# -*- coding: utf-7 -*-
# expect: bad_encoding_declaration
import backtrader as bt


class Agent(bt.Strategy):
    pass
