"""SLURM support: the one-node dev cluster for tests and preemption-safe submitit loops."""
