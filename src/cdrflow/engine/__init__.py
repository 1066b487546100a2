"""The small rules engine: parameters by date, decision tables, the calc registry, months.

Nothing in this package knows any policy; the policy packages supply data and functions.
"""
