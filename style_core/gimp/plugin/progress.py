"""Showing a run's progress: a window with Cancel for a person, GIMP's progress bar for scripts.

Both take the run's status line (``clock.RunClock.status``: stage, size, share of the work done,
time so far and left, ticking every second) and the share of the work done (None while the
engine starts: the bar pulses). The window also shows the picture as it forms.
"""

from __future__ import annotations

import sys

import gi
from engine import PluginCancelled
from gi.repository import Gdk, GdkPixbuf, Gimp, GimpUi, GLib, Gtk, Pango

TITLE = "Neural Style Transfer"


#: The largest side, in pixels, of the picture shown in the progress window.
PICTURE_SIDE = 360


class PdbProgress:
    """GIMP's progress bar (the caller's) in non-interactive runs; nothing to cancel, no pictures."""

    shows_pictures = False

    def __init__(self, text: str) -> None:
        Gimp.progress_init(f"{TITLE}: {text}")

    def update(self, fraction: float | None, text: str) -> None:
        if fraction is not None:
            Gimp.progress_update(fraction)
        Gimp.progress_set_text(f"{TITLE}: {text}")

    def show_picture(self, path: str) -> None:
        """Nothing to show it in."""

    def pulse(self) -> None:
        Gimp.progress_pulse()

    def check(self) -> None:
        """Raise :class:`PluginCancelled` when the person asked to stop (never, here)."""

    def close(self) -> None:
        Gimp.progress_end()


def make_transient(window: Gtk.Window) -> None:
    """Make ``window`` transient for the image window the plug-in was started from.

    GIMP's own helper sets the hint when the window is mapped; a window manager stacks a new
    window by the hints it has at map time, so the window opened behind the image window (seen
    with GIMP 3.0 on X11). On X11 the hint is set here, before mapping, as well.
    """
    GimpUi.window_set_transient(window)
    handle = Gimp.progress_get_window_handle()
    data = handle.get_data() if handle is not None else b""
    display = Gdk.Display.get_default()
    if len(data) != 8 or display.__gtype__.name != "GdkX11Display":  # an X11 Window id
        return
    gi.require_version("GdkX11", "3.0")
    from gi.repository import GdkX11

    parent = GdkX11.X11Window.foreign_new_for_display(display, int.from_bytes(data, sys.byteorder))
    window.realize()
    window.get_window().set_transient_for(parent)


def picture(path: str, side: int) -> GdkPixbuf.Pixbuf | None:
    """The PNG at ``path`` scaled to fit ``side`` px, read in this process (None if it can't be)."""
    try:
        return GdkPixbuf.Pixbuf.new_from_file_at_scale(path, side, side, True)
    except GLib.Error:
        return None


class ProgressWindow:
    """A small window with what is being painted, a progress bar with the run's status, the picture
    as it forms, and Cancel.

    It is transient for the image window the plug-in was started from and presented, so it opens
    in front of it. It is the plug-in's own window rather than the image window's status bar: in
    GIMP 3.0 the status bar's Cancel kills the plug-in (GP_QUIT, then SIGKILL 10 ms later), which
    could not remove its preview or say anything; Cancel here stops the engine, removes the preview
    and leaves the image as it was.
    """

    shows_pictures = True

    def __init__(self, headline: str, text: str) -> None:
        self.cancelled = False
        self.dialog = GimpUi.Dialog(title=TITLE, role="style-core-progress")
        self.dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.dialog.connect("response", self._on_response)
        self.dialog.connect("delete-event", self._on_delete)
        box = self.dialog.get_content_area()
        box.set_border_width(12)
        box.set_spacing(12)
        label = Gtk.Label(label=headline, xalign=0.0)
        label.set_line_wrap(True)
        label.set_max_width_chars(60)
        box.pack_start(label, False, False, 0)
        self.bar = Gtk.ProgressBar(show_text=True, ellipsize=Pango.EllipsizeMode.END)
        self.bar.set_size_request(480, -1)
        self.bar.set_text(text)
        box.pack_start(self.bar, False, False, 0)
        self.picture = Gtk.Image()
        box.pack_start(self.picture, False, False, 0)
        make_transient(self.dialog)
        self.dialog.show_all()
        self.dialog.present()
        self.pump()

    def _on_response(self, dialog: Gtk.Dialog, response: int) -> None:
        self.cancelled = True
        dialog.set_response_sensitive(Gtk.ResponseType.CANCEL, False)
        self.bar.set_text("Cancelling…")

    def _on_delete(self, dialog: Gtk.Dialog, event: object) -> bool:
        self._on_response(dialog, Gtk.ResponseType.CANCEL)
        return True

    def pump(self) -> None:
        while Gtk.events_pending():
            Gtk.main_iteration_do(False)

    def update(self, fraction: float | None, text: str) -> None:
        if not self.cancelled:
            if fraction is not None:
                self.bar.set_fraction(fraction)
            self.bar.set_text(text)
        self.pump()

    def show_picture(self, path: str) -> None:
        shown = picture(path, PICTURE_SIDE)
        if shown is not None:
            self.picture.set_from_pixbuf(shown)
        self.pump()

    def pulse(self) -> None:
        self.bar.pulse()
        self.pump()

    def check(self) -> None:
        self.pump()
        if self.cancelled:
            raise PluginCancelled

    def close(self) -> None:
        self.dialog.destroy()
        self.pump()
