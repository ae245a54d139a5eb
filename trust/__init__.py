"""Kiosk identity shared by the kiosk, the central service and the fleet server (issue 9)."""
