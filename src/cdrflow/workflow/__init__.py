"""The mailer lifecycle over the DCF: selection cycles, intake, outcomes, PC review, integrity sampling.

Each service is a plain function over a :class:`cdrflow.dcf.store.Store` (one transaction per
chunk in bulk paths, one per command in review paths). Policy answers come from the calcs and
tables in :mod:`cdrflow.policy.mailer`; nothing here decides policy on its own.
"""
