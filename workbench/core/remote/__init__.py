"""Running Workbench's jobs on a Dask cluster (DESIGN.md §12): the window or the command line
on this computer, the model on a worker (a GPU server, a Slurm allocation, a local cluster).

``cluster`` connects and describes the workers; the interactive path sends the same core job
functions to an actor that holds the loaded model; the dataset path partitions feature
extraction and batch analyses over every worker.  Qt-free.
"""
