"""splitbench: a benchmarking suite for DNN split-and-placement.

Exact MILP formulations, graph algorithms, baselines and an exhaustive oracle, all
checked by one evaluator, with a harness that reports optimality gaps and solve times.

Examples
--------
>>> import splitbench
>>> inst = splitbench.example_instance()
>>> inst.dnn.name
'b-alexnet'
"""

from splitbench.errors import InstanceError, PlacementError, SplitbenchError
from splitbench.instance import Instance, example_instance, load_instance

__version__ = "0.1.0.dev0"

__all__ = [
    "Instance",
    "InstanceError",
    "PlacementError",
    "SplitbenchError",
    "__version__",
    "example_instance",
    "load_instance",
]
