"""dqnlab: a research harness for DQN and the six Rainbow components."""

__version__ = "0.1.0"
