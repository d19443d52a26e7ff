"""The request contract: every request the tests send to the emulator, checked against Adobe's specs."""
