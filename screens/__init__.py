"""Kivy views: thin screens that render view models and turn touches into intents.

Public API (the rest is internal):

- `screens.runner.ensure_display()`: call before anything else; re-executes the command under
  xvfb-run when there is no display, or exits 2 with one line saying how to get one.
- `screens.runner.run_app(core, *, fullscreen, size=(1080, 1920), exit_after_first_frame=False,
  on_first_frame=None) -> int`: configures Kivy (before importing it), registers the CJK font, and
  runs `screens.app.KioskApp` until the window closes or SIGTERM. `on_first_frame(t)` receives
  `time.monotonic()` when the start screen's first frame is drawn.
- `screens.fonts.register_fonts()`: the "KioskCJK" font (Noto Sans CJK SC) as every widget's default.

Importing `screens.app` opens a window, so only `screens.runner` imports it, inside `run_app`.
"""
