"""One module per flow kind; each does its slow work off the machine's thread."""
