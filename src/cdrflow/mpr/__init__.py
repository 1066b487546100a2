"""The CE provider registry's pure core (PM 00215.001D.4.b, D.4.c; issue 6).

* :mod:`cdrflow.mpr.leie`: read the OIG List of Excluded Individuals/Entities (LEIE) in its
  published CSV layout, and the reject discipline every file reader here shares.
* :mod:`cdrflow.mpr.roster`: read a state license roster CSV (our documented layout).
* :mod:`cdrflow.mpr.matching`: providers (people and practices, their locations, DDS panels and
  licenses) matched to LEIE entries, every match explained, ambiguous ones queued for a person.

The eligibility rule itself is the calc ``ce-provider-eligibility`` in
:mod:`cdrflow.policy.mpr.eligibility`; the file layouts are in ``docs/mpr-formats.md``.
"""
