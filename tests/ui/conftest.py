"""A main window on a sample photo, for panel tests."""

import pytest

from workbench.io.samples import sample_path

TIMEOUT = 60_000


@pytest.fixture
def open_window(qtbot):
    """``open_window(tab=None, sample="chelsea")`` → a shown, settled main window."""
    from workbench.ui.main_window import MainWindow

    made = []

    def make(tab: str | None = None, sample: str = "chelsea"):
        win = MainWindow(files=[str(sample_path(sample))], restore=False)
        qtbot.addWidget(win)
        win.resize(1300, 850)
        win.show()
        if tab:
            win.tabs.setCurrentIndex([p.title for p in win.panels].index(tab))
        qtbot.waitUntil(lambda: win.state.model is not None and win.state.image is not None,
                        timeout=TIMEOUT)
        qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()
        assert not win.runner.thread().isRunning()
        assert not win.io_runner.thread().isRunning()
