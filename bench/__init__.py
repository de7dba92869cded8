"""walkie's benchmarks (`bench/run`): hub fan-out against mosquitto, laptop line
to LCD, PTT latency, serial stream efficiency, the Pi daemon's footprint and the
firmware's size. See docs/performance.md for the latest figures and methods."""
