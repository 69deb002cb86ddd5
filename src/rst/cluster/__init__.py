"""Running rst's partition tasks on a cluster (``rst run --executor dask``).

The runner takes any :class:`concurrent.futures.Executor`; this package provides the Dask
one (:mod:`rst.cluster.dask_executor`). Importing this package imports no cluster library:
``distributed`` is loaded only by :mod:`rst.cluster.dask_executor`, on ``--executor dask``.
"""
