"""Synthetic populations and mailer responses for the demo, tests and benchmarks."""
