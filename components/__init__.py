"""Pure functions from sources to sinks: no I/O, no clocks, no randomness."""
