"""The beneficiary population: the ``beneficiaries`` rows of the DCF (DI 40502.001F.3, G.3, E.4.a).

* :mod:`.model` — :class:`~.model.Beneficiary`, one row, and the checks shared with the import.
* :mod:`.io` — read a population file (CSV or Parquet) into insertable rows plus rejects.
* :mod:`.generate` — a seeded synthetic population with realistic mixes.

Nothing here writes to a database; the store layer inserts what :func:`.io.read_population` returns.
Columns are documented in ``docs/population.md``.
"""
