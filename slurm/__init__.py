"""The one-node SLURM dev cluster (`dev_cluster`, the shell scripts) and the cluster profiles
(`profiles/*.toml`); installed as `dqnlab.slurm`. The slurm executor is in `dqnlab.sweep`."""
