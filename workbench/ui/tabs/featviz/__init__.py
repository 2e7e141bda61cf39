"""The featviz tab."""
