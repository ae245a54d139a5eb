"""Hardware edge: bytes, ports and wire protocols. Knows nothing of kiosk/ or screens/."""
