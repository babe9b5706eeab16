# expect: forbidden_import
import backtrader as bt
import requests
import urllib.request


class Agent(bt.Strategy):
    pass
