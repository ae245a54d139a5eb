"""The technicians' maintenance menu, free of Kivy: sign-in, audit log, the menu's actions.

`steps.MaintenanceSteps` is the core's side of the menu (as `kiosk.apply_steps` is for applying);
`tools.MaintenanceTools` bundles what the menu acts on, built by the runtime.
"""
