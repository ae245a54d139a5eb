"""Kiosk core: the appliance brain, importable and testable without Kivy."""
