"""Fault injection between the kiosk and the central service: "delivered exactly once", proven."""
