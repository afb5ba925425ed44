"""Tests of splitbench.graphs: layered shortest path, FIN, LARAC, label setting, baselines."""
