"""The base of every screen: render a view model, send intents, nothing else."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.events import Intent
from kiosk.views import Option, ViewModel
from screens.widgets import Send, option_button


class KioskScreen(Screen):
    """A screen for one family of machine states.

    The app calls `show(view)` when what the screen displays has changed, and `tick(view)` when
    only the countdown has; the screen calls `send(intent, arg)` when the resident acts.
    """

    # When True the body shows the title large and the header shows only the status line.
    own_title = False
    send = ObjectProperty(None, allownone=True)

    def show(self, view: ViewModel) -> None:
        """Render `view`; called only when its content (not just the countdown) changed."""
        raise NotImplementedError

    def tick(self, view: ViewModel) -> None:
        """Update the countdown; most screens leave that to the app's overlay."""

    def touch(self, intent: Intent, arg: str | None = None) -> None:
        """Send the resident's intent to the core."""
        if self.send is not None:
            self.send(intent, arg)

    def buttons(
        self, container, options: tuple[Option, ...], style: str | None = None, **props
    ) -> None:
        """Replace `container`'s children with a big button per option (`props` for KButton)."""
        container.clear_widgets()
        sender: Send = self.touch
        for option in options:
            container.add_widget(option_button(option, sender, style, **props))
