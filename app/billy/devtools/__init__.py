"""For developers, not the appliance: the demo, the benchmarks, a local stack of services, synthetic voices."""
