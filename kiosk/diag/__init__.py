"""The technician's self-tests (`kiosk diag ...`): one module per device, a shared command scaffold
(`kiosk.diag.common`), each a plain command with a one-line answer and an exit code."""
