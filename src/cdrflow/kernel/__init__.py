"""The small kernel every layer may import: domain errors, the SSN type, settings.

It imports nothing else of cdrflow (only the standard library and pydantic), so the policy, the store,
the services and the interfaces can all stand on it.
"""
