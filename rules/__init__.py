"""Rules every layer shares: the one masking policy and the one set of card-number checks.

A leaf package: pure functions on the standard library only, so the kiosk, the drivers and the
reference central service can all import it without importing each other.
"""
