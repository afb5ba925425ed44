"""Tests of splitbench.harness: the result record and the metrics."""
