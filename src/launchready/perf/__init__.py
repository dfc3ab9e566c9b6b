"""Performance measurement: an open-model load generator, histograms, growth runs, page loads."""
