"""Batch files: read returned-mailer files, decide them vectorized, write results and rejects."""
