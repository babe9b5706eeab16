# expect: agent_not_strategy
class Agent:
    def next(self):
        pass
