"""Tests of splitbench.methods: the runner, baselines, exhaustive oracle, MILP methods."""
