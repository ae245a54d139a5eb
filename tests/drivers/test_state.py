"""The common device state model."""

from drivers.state import DeviceState, DeviceStatus, PaperState


def test_usable_states_and_printer_specifics():
    assert DeviceStatus(DeviceState.ONLINE).usable
    assert not DeviceStatus(DeviceState.OFFLINE).usable
    assert not DeviceStatus(DeviceState.NO_DEVICE).usable
    assert DeviceStatus(DeviceState.ONLINE, paper=PaperState.LOW).usable
    assert not DeviceStatus(DeviceState.ONLINE, paper=PaperState.OUT).usable
    assert not DeviceStatus(DeviceState.ONLINE, cover_open=True).usable


def test_equal_statuses_ignore_details_so_changes_are_real_changes():
    a = DeviceStatus(DeviceState.ONLINE, details={"sam_id": "x"})
    b = DeviceStatus(DeviceState.ONLINE, details={"sam_id": "y"})
    assert a == b and a != DeviceStatus(DeviceState.OFFLINE)
    assert DeviceStatus(DeviceState.ONLINE, paper=PaperState.LOW).as_dict() == {
        "state": "online",
        "paper": "low",
    }
