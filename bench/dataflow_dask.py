"""Peer of bench:dataflow: the same DAGs of no-op tasks on a Dask distributed LocalCluster.

Reads on stdin: {"workers": N, "threads": T, "repeats": R, "warmup": [deps...],
"graphs": [{"name": str, "deps": [[upstream task indexes], ...]}]}. Each graph is submitted whole
(one update_graph, as TM takes one POST) with client.get, which returns once the results of its
leaves are gathered; cluster start-up is timed apart. Writes one JSON object on stdout.
"""

import json
import logging
import sys
import time


def noop(*_upstream):
    """The task: nothing, like TM's echo probe; upstream results are passed in and dropped."""
    return None


def task_graph(deps, prefix):
    """A raw Dask graph: key i runs noop on the results of its upstream keys."""
    keys = [f"{prefix}-{i}" for i in range(len(deps))]
    graph = {keys[i]: (noop, *[keys[d] for d in up]) for i, up in enumerate(deps)}
    downstream = {d for up in deps for d in up}
    leaves = [keys[i] for i in range(len(deps)) if i not in downstream]
    return graph, leaves


def run_once(client, deps, prefix):
    """Seconds from submitting the graph to holding its leaves' results."""
    graph, leaves = task_graph(deps, prefix)
    started = time.perf_counter()
    client.get(graph, leaves, sync=True)
    return time.perf_counter() - started


def main():
    config = json.load(sys.stdin)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    import dask
    import distributed
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=config["workers"],
        threads_per_worker=config["threads"],
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    startup = time.perf_counter() - started
    try:
        run_once(client, config["warmup"], "warmup")
        results = {}
        for graph in config["graphs"]:
            results[graph["name"]] = [
                run_once(client, graph["deps"], f"{graph['name']}-{r}")
                for r in range(config["repeats"])
            ]
    finally:
        client.close()
        cluster.close()
    json.dump(
        {
            "dask": dask.__version__,
            "distributed": distributed.__version__,
            "python": sys.version.split()[0],
            "startupSeconds": startup,
            "seconds": results,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
